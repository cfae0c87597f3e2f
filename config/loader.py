"""Load the agent config: framework options first, then each plugin's own strict model.

Every problem found is collected and reported together, each naming `file:line`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from agent.core.errors import ConfigError, Problem
from agent.core.plugin import Capability, HasCredential, PluginSpec, Registry
from agent.core.yamlsource import SourceDict, SourceList, load_yaml_file, where
from config.credentials import Credential
from config.models import FRAMEWORK_KEYS, KIND_KEYS, AgentSection, PluginOptions, why_not
from inventory.loader import load_inventory, pydantic_problems
from inventory.models import Inventory

_SECTIONS = ("inputs", "processors", "outputs")
_TOP_KEYS = frozenset({"agent", "credentials", *_SECTIONS})
_credential_adapter: TypeAdapter[Credential] = TypeAdapter(Credential)


@dataclass(frozen=True, slots=True)
class PluginInstance:
    spec: PluginSpec
    options: PluginOptions
    config: BaseModel
    where: str

    @property
    def name(self) -> str:
        return self.options.name or self.spec.name

    @property
    def instance_id(self) -> str:
        return f"{self.spec.name}/{self.name}"


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    path: Path
    agent: AgentSection
    credentials: dict[str, Credential]
    inputs: list[PluginInstance]
    processors: list[PluginInstance]
    outputs: list[PluginInstance]
    inventory: Inventory
    warnings: list[Problem] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return self.path.parent

    @property
    def data_dir(self) -> Path:
        return (self.config_dir / self.agent.data_dir).resolve()

    def instances(self) -> list[PluginInstance]:
        return [*self.inputs, *self.processors, *self.outputs]


def _plugin_instance(
    section: str, item: Any, where_: str, registry: Registry, problems: list[Problem]
) -> PluginInstance | None:
    if not isinstance(item, dict):
        problems.append(Problem(where_, f"each entry of '{section}' must be a mapping"))
        return None
    kind = item.get("type")
    spec = registry.get(section, kind) if isinstance(kind, str) else None
    # the framework keys this kind gives a meaning to; before the type is known, all of them
    allowed = KIND_KEYS[spec.kind] if spec is not None else FRAMEWORK_KEYS
    framework = {k: v for k, v in item.items() if k in allowed}
    own = {k: v for k, v in item.items() if k not in allowed}
    try:
        options = PluginOptions.model_validate(framework)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, item, where_))
        return None
    if spec is None:
        known = ", ".join(registry.names(section)) or "none"
        problems.append(Problem(
            where(item, "type") or where_,
            f"unknown {section[:-1]} type '{options.type}' (known: {known})"))
        return None
    refused = False
    for key in item:
        if key in FRAMEWORK_KEYS and key not in allowed \
                and key not in spec.config_model.model_fields:
            problems.append(Problem(
                where(item, key) or where_,
                f"{section[:-1]} '{spec.name}' is a {spec.kind.value}: '{key}' means nothing "
                f"here ({why_not(key, spec.kind)})"))
            refused = True
    if refused:
        return None
    try:
        cfg = spec.config_model.model_validate(own)
    except ValidationError as exc:
        problems.extend(
            Problem(p.where, f"{section[:-1]} '{options.type}': {p.message}")
            for p in pydantic_problems(exc, item, where_)
        )
        return None
    return PluginInstance(spec, options, cfg, where_)


def parse_config(src: Any, path: Path, registry: Registry) -> LoadedConfig:
    problems: list[Problem] = []
    if not isinstance(src, SourceDict):
        raise ConfigError.one(f"{path}:1", "config must be a mapping")
    for key in src:
        if key not in _TOP_KEYS:
            problems.append(Problem(
                where(src, key),
                f"unknown top-level key '{key}' (known: {', '.join(sorted(_TOP_KEYS))})"))
    agent = AgentSection()
    try:
        agent = AgentSection.model_validate(src.get("agent") or {})
    except ValidationError as exc:
        problems.extend(
            Problem(p.where, f"agent: {p.message}")
            for p in pydantic_problems(exc, src.get("agent"), where(src, "agent"))
        )

    credentials: dict[str, Credential] = {}
    creds_src = src.get("credentials") or []
    if not isinstance(creds_src, list):
        problems.append(Problem(where(src, "credentials"), "'credentials' must be a list"))
        creds_src = []
    for i, item in enumerate(creds_src):
        place = where(creds_src, i)
        try:
            cred: Credential = _credential_adapter.validate_python(item)
        except ValidationError as exc:
            problems.extend(
                Problem(p.where, f"credential: {p.message}")
                for p in pydantic_problems(exc, item, place))
            continue
        if cred.name in credentials:
            problems.append(Problem(place, f"duplicate credential name '{cred.name}'"))
        credentials[cred.name] = cred

    sections: dict[str, list[PluginInstance]] = {s: [] for s in _SECTIONS}
    seen: dict[str, str] = {}
    for section in _SECTIONS:
        items = src.get(section) or []
        if not isinstance(items, SourceList | list):
            problems.append(Problem(where(src, section), f"'{section}' must be a list"))
            continue
        for i, item in enumerate(items):
            inst = _plugin_instance(section, item, where(items, i), registry, problems)
            if inst is None:
                continue
            if inst.instance_id in seen:
                problems.append(Problem(
                    inst.where, f"duplicate instance '{inst.instance_id}' "
                    f"(also at {seen[inst.instance_id]}); give each a distinct 'name'"))
            seen[inst.instance_id] = inst.where
            sections[section].append(inst)

    inventory = Inventory.empty()
    if agent.inventory is not None:
        inv_path = (path.parent / agent.inventory).resolve()
        try:
            inventory = load_inventory(inv_path)
        except ConfigError as exc:
            problems.extend(exc.problems)

    warnings: list[Problem] = []
    for inst in (*sections["inputs"], *sections["outputs"]):
        if Capability.CREDENTIAL not in inst.spec.capabilities:
            continue  # Registry.register made sure a CREDENTIAL plugin's model has the key
        cred_name = cast(HasCredential, inst.config).credential
        if cred_name is not None and cred_name not in credentials:
            problems.append(Problem(inst.where, f"unknown credential set '{cred_name}'"))
    for dev in inventory.devices:
        if dev.credential is not None and dev.credential not in credentials:
            warnings.append(Problem(
                dev.where, f"device {dev.id}: credential set '{dev.credential}' is not "
                "defined in the config"))
    if problems:
        raise ConfigError(problems)
    loaded = LoadedConfig(
        path, agent, credentials, sections["inputs"], sections["processors"],
        sections["outputs"], inventory, warnings)
    # selectors that match nothing are worth a warning, not an error
    from config.targets import select_targets

    for inst in loaded.inputs:
        sel = inst.options.targets
        if sel is not None and not select_targets(sel, inventory, inst.spec):
            warnings.append(Problem(inst.where, f"{inst.instance_id}: targets match nothing"))
    return loaded


def load_config(path: Path, registry: Registry) -> LoadedConfig:
    path = path.resolve()
    return parse_config(load_yaml_file(path), path, registry)
