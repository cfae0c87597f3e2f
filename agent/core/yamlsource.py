"""YAML loading that remembers where every value came from.

Mappings load as `SourceDict` and sequences as `SourceList`, plain `dict`/`list` subclasses that
also carry the line of each key/item. `locate()` turns a pydantic error location back into
`file:line`, so a misspelt key fails at load naming the exact place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from agent.core.errors import ConfigError, Problem


class SourceDict(dict[str, Any]):
    """A mapping that knows its file, its own line and the line of each key."""

    file: str
    line: int
    key_lines: dict[str, int]


class SourceList(list[Any]):
    file: str
    line: int
    item_lines: list[int]


_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds Source* containers, refuses duplicate keys, expands ${ENV}."""

    file_name = "<string>"
    problems: list[Problem]
    expand_env = True


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> SourceDict:
    loader.flatten_mapping(node)
    out = SourceDict()
    out.file = loader.file_name
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key_s = str(key)
        line = key_node.start_mark.line + 1
        if key_s in out:
            loader.problems.append(
                Problem(
                    f"{loader.file_name}:{line}",
                    f"duplicate key '{key_s}' (first at line {out.key_lines[key_s]})",
                )
            )
            continue
        out[key_s] = loader.construct_object(value_node, deep=True)
        out.key_lines[key_s] = line
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> SourceList:
    out = SourceList(loader.construct_object(child, deep=True) for child in node.value)
    out.file = loader.file_name
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = loader.construct_scalar(node)
    assert isinstance(value, str)
    if "${" not in value or not loader.expand_env:
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        loader.problems.append(
            Problem(
                f"{loader.file_name}:{node.start_mark.line + 1}",
                f"environment variable {name} is not set",
            )
        )
        return ""

    return _ENV_RE.sub(repl, value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def load_yaml_text(text: str, file_name: str, *, expand_env: bool = True) -> Any:
    """`expand_env=False` for files that must never receive a secret from the environment
    (inventories: their values become labels on every series)."""
    loader = _Loader(text)
    loader.file_name = file_name
    loader.problems = []
    loader.expand_env = expand_env
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError.one(f"{file_name}:{line}", f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError.one(file_name, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if loader.problems:
        raise ConfigError(loader.problems)
    return data


def load_yaml_file(path: Path, *, expand_env: bool = True) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.one(str(path), f"cannot read: {exc.strerror}") from None
    return load_yaml_text(text, str(path), expand_env=expand_env)


def where(node: Any, key: str | int | None = None) -> str:
    """`file:line` of `node` (or of its `key`), or '' when the node has no source."""
    if isinstance(node, SourceDict):
        line = node.key_lines.get(str(key), node.line) if key is not None else node.line
        return f"{node.file}:{line}"
    if isinstance(node, SourceList):
        if isinstance(key, int) and 0 <= key < len(node.item_lines):
            return f"{node.file}:{node.item_lines[key]}"
        return f"{node.file}:{node.line}"
    return ""


def locate(root: Any, loc: Sequence[str | int], fallback: str = "") -> str:
    """Follow a pydantic error `loc` through Source containers to the deepest known line."""
    best = where(root) or fallback
    node = root
    for part in loc:
        if isinstance(node, SourceDict) and str(part) in node:
            best = where(node, str(part))
            node = node[str(part)]
        elif isinstance(node, SourceDict):
            best = where(node, str(part)) if str(part) in node.key_lines else where(node)
            break
        elif isinstance(node, SourceList) and isinstance(part, int) and part < len(node):
            best = where(node, part)
            node = node[part]
        else:
            # tagged-union branch names and the like are not in the data: skip them
            continue
    return best
