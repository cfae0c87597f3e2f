"""The `mqtt` input's configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from collectors.mqtt.classes import CLASSES, IotClass
from config.base import StrictModel


class TlsConfig(StrictModel):
    ca_file: str
    cert_file: str | None = None  # client certificate (mosquitto require_certificate)
    key_file: str | None = None
    check_hostname: bool = True

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class SubscriptionConfig(StrictModel):
    topic: str = Field(min_length=1)
    qos: int = Field(default=1, ge=0, le=2)


class StreamNames(StrictModel):
    status: str = "status"
    telemetry: str = "telemetry"
    event: str = "event"


class MqttConfig(StrictModel):
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)  # None: 1883, or 8883 with TLS
    # 3.1.1 by default: what most campus devices and gateways speak, and paho parses an MQTT 5
    # PUBLISH at ~1.6× the CPU (it builds a Properties object per message; bench/mqtt_ingest).
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    client_id: str | None = None  # None: campusmon-<hostname>-<instance name>, stable
    credential: str | None = None  # a `user_password` credential set
    tls: TlsConfig | None = None
    persistent_session: bool = False  # keep subscriptions and queued QoS≥1 messages
    session_expiry_secs: int = Field(default=3600, ge=1)
    keepalive_secs: int = Field(default=30, ge=5, le=3600)
    reconnect_min_secs: int = Field(default=1, ge=1)
    reconnect_max_secs: int = Field(default=30, ge=1)
    topic_templates: list[str] = Field(
        default_factory=lambda: ["campus/{campus}/{building}/{kind}/{device}/{stream}"],
        min_length=1)
    # Empty: derived from the templates — status and event at QoS 1, telemetry at
    # `telemetry_qos` (QoS 1 costs about 3× the CPU per message; baselines.md).
    subscriptions: list[SubscriptionConfig] = Field(default_factory=list)
    telemetry_qos: int = Field(default=0, ge=0, le=2)
    streams: StreamNames = StreamNames()
    heartbeat_secs: dict[IotClass, float] = Field(default_factory=dict)
    stale_factor: float = Field(default=1.5, gt=1.0, le=10.0)
    liveness_tick_secs: float | None = Field(default=None, gt=0)  # None: shortest beat / 4
    report_interval_secs: float = Field(default=30.0, gt=0)
    queue_max_messages: int = Field(default=100_000, ge=10)
    max_payload_bytes: int = Field(default=65_536, ge=64)
    max_unregistered_tracked: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _check(self) -> MqttConfig:
        if self.reconnect_max_secs < self.reconnect_min_secs:
            raise ValueError("reconnect_max_secs must be ≥ reconnect_min_secs")
        for cls, secs in self.heartbeat_secs.items():
            if secs <= 0:
                raise ValueError(f"heartbeat_secs.{cls.value} must be > 0")
        return self

    def heartbeat_for(self, cls: IotClass) -> float:
        return self.heartbeat_secs.get(cls, CLASSES[cls].heartbeat_secs)

    @property
    def effective_port(self) -> int:
        return self.port or (8883 if self.tls is not None else 1883)
