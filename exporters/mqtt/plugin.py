"""Events (alerts, discoveries, audit results) as JSON to MQTT topics, QoS 1, behind its own
disk queue.

Each event is one message: `Event.to_json_dict()` (UTF-8 JSON) on a topic made from a template
such as `campusmon/{campus}/events/{kind}`. A message the broker did not acknowledge stays
queued (at-least-once); acknowledged ones are never sent again.
"""

from __future__ import annotations

import asyncio
import re
import socket
import string
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator, model_validator

from agent.core.model import Event
from agent.core.plugin import Batch, BatchKind, BuildContext, Capability, PluginKind, PluginSpec
from agent.framework.outputs import LinesExportError
from config.base import SecretsFromFiles

if TYPE_CHECKING:  # paho (and the dnspython it loads) when the exporter starts, not with the SPEC
    from exporters.mqtt.client import Publisher

TOPIC_FIELDS = frozenset({"campus", "kind", "state", "severity", "device", "building", "room"})
_UNSAFE = re.compile(r"[/+#\x00\s]")


class MqttEventsConfig(SecretsFromFiles):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str | None = None  # default: campusmon-events-<hostname>
    topic: str = "campusmon/{campus}/events/{kind}"
    qos: int = Field(default=1, ge=1, le=2)
    retain: bool = False
    username: str | None = None
    password: SecretStr | None = None  # password_file: also accepted
    ca_file: str | None = None  # TLS when set
    cert_file: str | None = None  # client certificate and key, for brokers that require one
    key_file: str | None = None
    verify_tls: bool = True
    timeout_secs: float = Field(default=10.0, gt=0)

    @field_validator("topic")
    @classmethod
    def _template(cls, v: str) -> str:
        names = {f for _, f, _, _ in string.Formatter().parse(v) if f is not None}
        unknown = names - TOPIC_FIELDS
        if unknown:
            raise ValueError(f"unknown topic fields {sorted(unknown)} "
                             f"(known: {', '.join(sorted(TOPIC_FIELDS))})")
        if "+" in v or "#" in v:
            raise ValueError("a topic to publish to cannot contain MQTT wildcards")
        return v

    @model_validator(mode="after")
    def _pairs(self) -> MqttEventsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give both cert_file and key_file, or neither")
        if self.cert_file is not None and self.ca_file is None:
            raise ValueError("a client certificate needs TLS: give ca_file too")
        return self


def topic_for(template: str, e: Event) -> str:
    values = {
        "campus": e.labels.get("campus", ""), "kind": e.kind, "state": e.state.value,
        "severity": e.severity.value, "device": e.device or "",
        "building": e.labels.get("building", ""), "room": e.labels.get("room", ""),
    }
    # one topic level per value: a '/' or wildcard inside a device name must not add levels
    return template.format_map({k: _UNSAFE.sub("_", v) or "_" for k, v in values.items()})


class MqttEventsExporter:
    accepts = frozenset({BatchKind.EVENTS})
    wants_objects = True  # the output decodes Batch.events for us

    def __init__(self, cfg: MqttEventsConfig) -> None:
        self.cfg = cfg
        self._pub: Publisher | None = None

    async def start(self) -> None:
        if self._pub is not None:
            return
        from exporters.mqtt.client import Publisher, PublisherOptions

        c = self.cfg
        self._pub = Publisher(PublisherOptions(
            host=c.host, port=c.port,
            client_id=c.client_id or f"campusmon-events-{socket.gethostname()}",
            username=c.username,
            password=c.password.get_secret_value() if c.password else None,
            ca_file=c.ca_file, cert_file=c.cert_file, key_file=c.key_file,
            verify_tls=c.verify_tls, qos=c.qos, retain=c.retain))
        await asyncio.to_thread(self._pub.start)

    async def write(self, batch: Batch) -> None:
        if self._pub is None:
            await self.start()
        assert self._pub is not None
        # the queued line is already the event's JSON: publish it as it is
        messages = [(topic_for(self.cfg.topic, e), line.encode())
                    for e, line in zip(batch.events, batch.lines, strict=True)]
        acked = await asyncio.to_thread(self._pub.publish_many, messages, self.cfg.timeout_secs)
        if all(acked):
            return
        unsent = [line for line, ok in zip(batch.lines, acked, strict=True) if not ok]
        raise LinesExportError(f"mqtt: {len(unsent)} of {len(acked)} messages not acknowledged",
                               accepted=len(acked) - len(unsent), rejected_lines=[],
                               unsent_lines=unsent)

    async def close(self) -> None:
        if self._pub is not None:
            pub, self._pub = self._pub, None
            await asyncio.to_thread(pub.close)


def build(cfg: MqttEventsConfig, ctx: BuildContext) -> MqttEventsExporter:
    return MqttEventsExporter(cfg)


SPEC = PluginSpec(
    name="mqtt", kind=PluginKind.PUSH_EXPORTER, config_model=MqttEventsConfig, build=build,
    description="Events as JSON to MQTT topics (QoS 1), behind a disk queue",
    example={"type": "mqtt", "host": "127.0.0.1", "topic": "campusmon/{campus}/events/{kind}"},
    capabilities=Capability.DECODED_BATCHES,
)
