"""Alert rule models and the loading of rule files (built-in and the site's own).

A rule is: a condition over the items that flow through the pipeline (a threshold on a metric
field, an event, a series gone silent, a share of a group, an insecure credential), how long it
must hold (`for_secs`), a severity, labels and a summary template. Rule files are YAML; every
mistake is a `ConfigError` naming `file:line`.
"""

from __future__ import annotations

import enum
import operator
import re
import string
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from agent.core.errors import ConfigError, Problem
from agent.core.model import Severity
from agent.core.yamlsource import SourceList, load_yaml_file, load_yaml_text, locate, where
from config.base import StrictModel
from inventory.loader import pydantic_problems
from inventory.models import Device, DeviceKind

_NAME_RE = r"^[a-z][a-z0-9_]*$"

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">=": operator.ge, ">": operator.gt,
}
Op = Literal["<", "<=", "==", "!=", ">=", ">"]


def check_regexes(patterns: dict[str, str]) -> dict[str, str]:
    """A validator's body: every value must compile as a regular expression."""
    for k, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{k}: bad regular expression: {exc}") from None
    return patterns


class DeviceSelector(StrictModel):
    """Restricts a rule to inventory devices; all given criteria must hold (AND)."""

    roles: list[str] = Field(default_factory=list)  # any of these roles
    kinds: list[DeviceKind] = Field(default_factory=list)  # any of these kinds
    network: bool | None = None  # True: network infrastructure only (switch, router, AP …)

    def matches(self, dev: Device | None) -> bool:
        if dev is None:
            return not (self.roles or self.kinds or self.network)
        if self.roles and not dev.roles.intersection(self.roles):
            return False
        if self.kinds and dev.kind not in self.kinds:
            return False
        return self.network is None or dev.kind.is_network == self.network


class SeriesFilter(StrictModel):
    """Which series a condition looks at. Filters are on identity tags, never on the outcome:
    a tag that only appears on failure (`error_type`) would hide the recovery sample."""

    metric: str  # a trailing `*` matches a prefix (`snmp_*`: anything the SNMP poller sends)
    tags: dict[str, str] = Field(default_factory=dict)  # exact match
    tags_regex: dict[str, str] = Field(default_factory=dict)  # full match
    device: DeviceSelector | None = None
    by: list[str] = Field(default_factory=lambda: ["device"], min_length=1)
    # tags that change with the outcome, left out of a series' identity
    ignore_tags: list[str] = Field(default_factory=lambda: ["error_type"])

    @field_validator("tags_regex")
    @classmethod
    def _regex_ok(cls, v: dict[str, str]) -> dict[str, str]:
        return check_regexes(v)


class ThresholdCondition(SeriesFilter):
    """`field op value` on each series; a subject (the `by` tags) is active when any/all of
    its series are."""

    type: Literal["threshold"]
    fields: list[str] = Field(min_length=1)  # true when any listed field present satisfies
    op: Op
    value: float
    reduce: Literal["any", "all"] = "any"
    stale_secs: float = Field(default=900.0, gt=0)  # a series not seen for this long is gone
    # a sample failing with one of these error types says nothing about the condition (an
    # unreachable device has not closed its telnet port): the series keeps its last value
    hold_on_errors: list[str] = Field(default_factory=list)
    # other fields that must have these values for the sample to count as true
    # (oper down *and* admin up: a port switched off on purpose is not an outage)
    require: dict[str, float] = Field(default_factory=dict)
    # `links`: only interfaces that carry a link of the topology (a child's parent_port, an
    # LLDP neighbour) or whose alias says uplink/WAN; a campus switch has dozens of unused
    # access ports that are enabled and down
    interfaces: Literal["any", "links"] = "any"
    link_alias_regex: str = r"(?i).*(uplink|up-link|wan|isp|cernet|trunk|上联|出口|互联).*"


class AbsentCondition(SeriesFilter):
    """A subject that reported `metric` before and has not for `absent_secs`."""

    type: Literal["absent"]
    absent_secs: float = Field(gt=0)
    forget_secs: float = Field(default=86400.0, gt=0)  # then stop alerting (decommissioned)


class RatioCondition(SeriesFilter):
    """Share of the series in a group (the `by` tags) for which `field op value` holds."""

    type: Literal["ratio"]
    field: str
    op: Op
    value: float
    min_ratio: float = Field(gt=0, le=1)
    min_count: int = Field(default=1, ge=1)  # at least this many series must match
    stale_secs: float = Field(default=900.0, gt=0)


class EventCondition(StrictModel):
    """Events of `kinds` (raised/observed) open the alert; `resolve_kinds` or a resolved
    event of the same kind close it; `auto_resolve_secs` closes a fact no longer observed."""

    type: Literal["event"]
    kinds: list[str] = Field(min_length=1)
    resolve_kinds: list[str] = Field(default_factory=list)
    by: list[str] = Field(default_factory=lambda: ["key"], min_length=1)
    auto_resolve_secs: float | None = Field(default=None, gt=0)
    device: DeviceSelector | None = None
    # device events (traps, syslog) share kinds; these pick them by label (regex, full match):
    # `labels` opens the alert, `resolve_labels` (on an event of `kinds`) closes it
    labels: dict[str, str] = Field(default_factory=dict)
    resolve_labels: dict[str, str] = Field(default_factory=dict)
    # a burst: at least `min_count` matching events of one subject within `window_secs`
    min_count: int = Field(default=1, ge=1)
    window_secs: float = Field(default=300.0, gt=0)
    # `links`: only events naming (label `ifname`) a port a topology link runs over, or any
    # port of a device with one of `link_roles` (the egress router: every port matters)
    interfaces: Literal["any", "links"] = "any"
    link_roles: list[str] = Field(default_factory=lambda: ["egress"])


class CredentialCheck(enum.StrEnum):
    SNMP_DEFAULT_COMMUNITY = "snmp_default_community"  # v1/v2c with public/private/…
    SNMP_V1_V2C = "snmp_v1_v2c"  # any community-based SNMP (cleartext)
    SNMPV3_NO_AUTH = "snmpv3_no_auth"  # SNMPv3 noAuthNoPriv


class CredentialCondition(StrictModel):
    """A device managed with an insecure credential set. Evaluated on the device's own data
    (`metric_prefix`), so only devices really managed that way alert."""

    type: Literal["credential"]
    checks: list[CredentialCheck] = Field(min_length=1)
    metric_prefix: str = "snmp_"
    default_communities: list[str] = Field(
        default_factory=lambda: ["public", "private", "community", "admin", "manager",
                                 "cisco", "huawei", "h3c", "ruijie"])
    stale_secs: float = Field(default=3600.0, gt=0)
    device: DeviceSelector | None = None
    by: list[str] = Field(default_factory=lambda: ["device"], min_length=1)


Condition = Annotated[
    ThresholdCondition | AbsentCondition | RatioCondition | EventCondition
    | CredentialCondition,
    Field(discriminator="type"),
]


class TopologyRole(enum.StrEnum):
    ROOT = "root"  # a firing alert on device D holds back the alerts of devices behind D
    SUPPRESSIBLE = "suppressible"  # held back while a root alert fires on a device upstream
    NONE = "none"  # never held back (security facts: rogue DHCP is news even when a link is down)


class Inhibit(StrictModel):
    """While this rule's alert is active, alerts of `rules` with the same `equal` labels are
    held back (storm control where topology does not reach: a whole IoT class offline at
    once pages once, not once per camera)."""

    rules: list[str] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class Rule(StrictModel):
    name: str = Field(pattern=_NAME_RE)
    description: str = ""
    condition: Condition
    for_secs: float = Field(default=0.0, ge=0)
    severity: Severity = Severity.WARNING
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str
    topology: TopologyRole = TopologyRole.NONE
    inhibits: Inhibit | None = None
    renotify_secs: float | None = Field(default=None, gt=0)  # None: the processor default
    enabled: bool = True
    where: str = Field(default="", exclude=True)  # file:line, filled in by the loader

    @field_validator("summary")
    @classmethod
    def _template_ok(cls, v: str) -> str:
        try:
            for _, fname, _, _ in string.Formatter().parse(v):
                if fname is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fname):
                    raise ValueError(f"summary: placeholder '{{{fname}}}' must be a plain name")
        except ValueError as exc:
            raise ValueError(f"summary template: {exc}") from None
        return v

    @model_validator(mode="after")
    def _topology_needs_device(self) -> Rule:
        if self.topology is not TopologyRole.NONE and "device" not in self.condition.by:
            raise ValueError("topology root/suppressible needs 'device' among the condition's by")
        return self


class RuleOverride(StrictModel):
    """Site changes to a built-in rule, by name, from the processor config."""

    enabled: bool | None = None
    for_secs: float | None = Field(default=None, ge=0)
    severity: Severity | None = None
    labels: dict[str, str] | None = None
    renotify_secs: float | None = Field(default=None, gt=0)
    summary: str | None = None


class RuleFile(StrictModel):
    rules: list[dict[str, Any]] = Field(default_factory=list)


def render(template: str, values: dict[str, str]) -> str:
    """Fill `{name}` placeholders; an unknown name renders as '?' rather than failing."""

    class _Missing(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "?"

    return string.Formatter().vformat(template, (), _Missing(values))


def parse_rules(src: Any, file_name: str) -> list[Rule]:
    if not isinstance(src, dict) or "rules" not in src:
        raise ConfigError.one(f"{file_name}:1", "a rule file is a mapping with a 'rules' list")
    extra = [k for k in src if k != "rules"]
    if extra:
        raise ConfigError.one(where(src, extra[0]) or file_name, f"unknown key '{extra[0]}'")
    items = src["rules"]
    if not isinstance(items, list):
        raise ConfigError.one(where(src, "rules") or file_name, "'rules' must be a list")
    problems: list[Problem] = []
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        place = where(items, i) if isinstance(items, SourceList) else file_name
        try:
            rule = Rule.model_validate(item)
        except ValidationError as exc:
            problems.extend(_problems(exc, item, place))
            continue
        rule = rule.model_copy(update={"where": place})
        if rule.name in seen:
            problems.append(Problem(place, f"duplicate rule '{rule.name}' (also at "
                                           f"{seen[rule.name]})"))
            continue
        seen[rule.name] = place
        rules.append(rule)
    if problems:
        raise ConfigError(problems)
    return rules


_CONDITION_TAGS = frozenset({"threshold", "absent", "ratio", "event", "credential"})


def _problems(exc: ValidationError, item: Any, place: str) -> list[Problem]:
    """Like `pydantic_problems`, located past the condition's tagged-union branch name (which
    is in pydantic's error path but not in the YAML)."""
    out: list[Problem] = []
    for err, problem in zip(exc.errors(), pydantic_problems(exc, item, place), strict=True):
        loc = [p for i, p in enumerate(err["loc"])
               if not (i == 1 and err["loc"][0] == "condition" and p in _CONDITION_TAGS)]
        out.append(Problem(locate(item, loc, place), problem.message))
    return out


def load_rule_file(path: Path) -> list[Rule]:
    return parse_rules(load_yaml_file(path), str(path))


def builtin_rules() -> list[Rule]:
    package = resources.files("agent.processors.alerts")
    text = package.joinpath("builtin_rules.yaml").read_text("utf-8")
    return parse_rules(load_yaml_text(text, "agent/processors/alerts/builtin_rules.yaml"),
                       "agent/processors/alerts/builtin_rules.yaml")


def merge_rules(base: Sequence[Rule], extra: Sequence[Rule],
                overrides: dict[str, RuleOverride], where_overrides: str) -> list[Rule]:
    """Site rules replace built-ins of the same name; overrides patch by name."""
    by_name = {r.name: r for r in base}
    for r in extra:
        by_name[r.name] = r
    unknown = sorted(set(overrides) - set(by_name))
    if unknown:
        raise ConfigError.one(where_overrides, f"overrides name unknown rules: {unknown}")
    for rule in by_name.values():
        missing = [n for n in (rule.inhibits.rules if rule.inhibits else []) if n not in by_name]
        if missing:
            raise ConfigError.one(rule.where or where_overrides,
                                  f"rule '{rule.name}' inhibits unknown rules: {missing}")
    out: list[Rule] = []
    for name, rule in by_name.items():
        ov = overrides.get(name)
        if ov is not None:
            patch = {k: v for k, v in ov.model_dump(exclude_none=True).items()}
            if "labels" in patch:
                patch["labels"] = {**rule.labels, **patch["labels"]}
            rule = Rule.model_validate({**rule.model_dump(), **patch, "where": rule.where})
        if rule.enabled:
            out.append(rule)
    return out
