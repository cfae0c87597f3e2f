"""The layers, read from the code: every module's imports parsed with `ast` (imports inside
functions included, `if TYPE_CHECKING:` blocks left out: they never run).

    agent/core                 imports nothing of ours outside agent/core
    config/, inventory/        agent/core and each other only
    agent/shared               no plugin, no framework, no agent/app
    agent/framework            no plugin, not agent/app
    plugins                    collectors/*, probes/*, exporters/*, agent/processors/*: no other
                               plugin, not agent/app
    everything                 no import cycle between modules (a package's __init__ counts:
                               importing a.b.c from outside a.b runs a/b/__init__.py)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("agent", "collectors", "probes", "exporters", "config", "inventory", "dashboards")
PLUGIN_FAMILIES = ("collectors", "probes", "exporters", "agent.processors")


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # importing module
    target: str  # imported module (ours)
    line: int

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


@cache
def modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(tree: ast.Module) -> Iterator[ast.AST]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _ours(name: str) -> str | None:
    """The longest module of ours that `name` is or is inside of."""
    mods = modules()
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports() -> tuple[Import, ...]:
    out: list[Import] = []
    mods = modules()
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import sub` imports the submodule when there is one
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                         for a in node.names]
            for name in names:
                target = _ours(name)
                if target is not None and target != mod:
                    out.append(Import(mod, target, getattr(node, "lineno", 0)))
    return tuple(out)


def layer(mod: str) -> str:
    if mod == "agent" or mod.startswith("agent.app"):
        return "app"
    for prefix in ("agent.core", "agent.shared", "agent.framework"):
        if mod == prefix or mod.startswith(prefix + "."):
            return prefix
    if mod.split(".")[0] in ("config", "inventory", "dashboards"):
        return mod.split(".")[0]
    if plugin(mod) is not None:
        return "plugin"
    return "family"  # collectors/__init__, probes' shared modules (probes/icmp.py …)


def plugin(mod: str) -> str | None:
    """`collectors.snmp` for any module of that plugin, None outside plugins."""
    for family in PLUGIN_FAMILIES:
        if mod.startswith(family + "."):
            head = mod[len(family) + 1:].split(".")[0]
            candidate = f"{family}.{head}"
            if candidate in _plugin_packages():
                return candidate
    return None


@cache
def _plugin_packages() -> frozenset[str]:
    """Packages that export a `SPEC` (probes/clients is a library the probe plugins share)."""
    return frozenset(m for m, p in modules().items()
                     if p.name == "__init__.py" and "SPEC" in p.read_text(encoding="utf-8"))


def _violations(allowed: set[str], source_layer: str) -> list[str]:
    return [str(i) for i in imports()
            if layer(i.source) == source_layer and layer(i.target) not in allowed]


def test_the_graph_is_read() -> None:
    # the parser finds the imports it must (guards against a test that checks nothing)
    found = {(i.source, i.target) for i in imports()}
    assert ("agent.framework.runtime", "agent.core.plugin") in found
    assert ("collectors.snmp.plugin", "collectors.snmp.collect") in found
    assert len(modules()) > 150


def test_core_imports_nothing_of_ours_outside_core() -> None:
    assert _violations({"agent.core"}, "agent.core") == []


def test_config_and_inventory_import_only_core_and_each_other() -> None:
    allowed = {"agent.core", "config", "inventory"}
    assert _violations(allowed, "config") + _violations(allowed, "inventory") == []


def test_shared_imports_no_plugin_framework_or_app() -> None:
    allowed = {"agent.core", "agent.shared", "config", "inventory"}
    assert _violations(allowed, "agent.shared") == []


def test_framework_imports_no_plugin_and_not_app() -> None:
    allowed = {"agent.core", "agent.shared", "agent.framework", "config", "inventory"}
    assert _violations(allowed, "agent.framework") == []


def test_no_plugin_imports_another_plugin_or_the_app() -> None:
    bad = [str(i) for i in imports() if plugin(i.source) is not None and (
        layer(i.target) == "app"
        or (plugin(i.target) is not None and plugin(i.target) != plugin(i.source)))]
    assert bad == []


def test_shared_modules_of_a_plugin_family_import_no_plugin() -> None:
    # probes/icmp.py & co. are what the probe plugins share: below them, never above
    bad = [str(i) for i in imports() if layer(i.source) == "family"
           and (plugin(i.target) is not None or layer(i.target) == "app")]
    assert bad == []


def _edges() -> dict[str, set[str]]:
    """Module → modules it makes Python run: the target and, when imported from outside a
    package, that package's __init__ chain."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for i in imports():
        graph[i.source].add(i.target)
        parts = i.target.split(".")
        for n in range(1, len(parts)):
            pkg = ".".join(parts[:n])
            if pkg in graph and not i.source.startswith(pkg + ".") and pkg != i.source:
                graph[i.source].add(pkg)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_edges()) == []


def test_a_cycle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
