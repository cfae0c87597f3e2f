"""Topic templates: `campus/{campus}/{building}/{kind}/{device}/{stream}` ↔ topics.

A template is split into levels once; matching a topic is a split and a comparison per level
(no regular expressions on the hot path). Each `{name}` takes exactly one level; `{device}` is
required, `{stream}` defaults to the template's `default_stream` when absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.core.errors import ConfigError

_PLACEHOLDER = re.compile(r"^\{([a-z_]+)\}$")
KNOWN_PLACEHOLDERS = frozenset({"campus", "building", "room", "kind", "device", "stream"})


@dataclass(frozen=True, slots=True)
class TopicMatch:
    device: str
    stream: str
    kind: str | None  # the `{kind}` level, informational: the inventory decides the class
    campus: str | None = None  # the `{campus}` level: another campus' devices are not ours


class TopicTemplate:
    def __init__(self, template: str, default_stream: str = "telemetry") -> None:
        self.template = template
        self.default_stream = default_stream
        levels = template.split("/")
        self._literal: list[str | None] = []
        self._device = self._stream = self._kind = self._campus = -1
        for i, level in enumerate(levels):
            m = _PLACEHOLDER.match(level)
            if m is None:
                if "{" in level or "}" in level or level in ("+", "#"):
                    raise ConfigError.one(
                        f"topic template {template!r}",
                        f"level {level!r}: a level is either literal or one {{name}}")
                self._literal.append(level)
                continue
            name = m.group(1)
            if name not in KNOWN_PLACEHOLDERS:
                raise ConfigError.one(
                    f"topic template {template!r}",
                    f"unknown placeholder {{{name}}} (known: "
                    f"{', '.join(sorted(KNOWN_PLACEHOLDERS))})")
            self._literal.append(None)
            if name == "device":
                self._device = i
            elif name == "stream":
                self._stream = i
            elif name == "kind":
                self._kind = i
            elif name == "campus":
                self._campus = i
        if self._device < 0:
            raise ConfigError.one(f"topic template {template!r}", "needs a {device} level")
        self._len = len(levels)
        # only the literal levels need comparing
        self._checks = tuple((i, lit) for i, lit in enumerate(self._literal) if lit is not None)

    @property
    def has_stream(self) -> bool:
        return self._stream >= 0

    def subscription(self, stream: str | None = None) -> str:
        """The MQTT filter for one stream (every stream when None) of every device."""
        levels = ["+" if lit is None else lit for lit in self._literal]
        if stream is not None and self._stream >= 0:
            levels[self._stream] = stream
        return "/".join(levels)

    def match(self, topic: str) -> TopicMatch | None:
        levels = topic.split("/")
        if len(levels) != self._len:
            return None
        for i, lit in self._checks:
            if levels[i] != lit:
                return None
        device = levels[self._device]
        if not device:
            return None
        stream = levels[self._stream] if self._stream >= 0 else self.default_stream
        kind = levels[self._kind] if self._kind >= 0 else None
        campus = levels[self._campus] if self._campus >= 0 else None
        return TopicMatch(device, stream, kind, campus)

    def render(self, **values: str) -> str:
        """The topic for given placeholder values (the simulator publishes with this)."""
        out: list[str] = []
        for lit, level in zip(self._literal, self.template.split("/"), strict=True):
            out.append(lit if lit is not None else values[level[1:-1]])
        return "/".join(out)


def match_any(templates: list[TopicTemplate], topic: str) -> TopicMatch | None:
    for t in templates:
        m = t.match(topic)
        if m is not None:
            return m
    return None
