"""The `coap` poller: resources of constrained devices over CoAP (RFC 7252), GET or Observe.

The config names the resources (`path`, optional `format` when a device sends no
Content-Format, `observe`). A GET resource is read every poll. An observed resource (RFC 7641)
is subscribed once; its notifications keep the latest value, which each poll reports (with the
count of notifications), and a lost observation is started again at the next poll. A device
port comes from the inventory label `coap_port` or a static target's port (default 5683).
CoAP over UDP without DTLS has no credentials; DTLS-secured devices are not read yet.

A device is up when any resource answered in the poll (a notification counts); down after two
polls in a row without an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from agent.core.catalogue import FieldKind, Measurement, counter, state, tag
from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, FieldValue, Item, Metric
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from agent.shared.iotclasses import class_name
from agent.shared.iotliveness import IOT_DEVICE, PollLiveness
from collectors.coap.client import CoapClient, Observation, Response
from collectors.coap.payloads import FORMATS, BadPayload, decode
from config.base import StrictModel

PORT_LABEL = "coap_port"


class ResourceConfig(StrictModel):
    path: str = Field(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$", max_length=255)
    format: Literal["auto", "text", "json", "cbor", "senml+json", "senml+cbor"] = "auto"
    observe: bool = False


class CoapConfig(StrictModel):
    port: int = Field(default=5683, ge=1, le=65535)
    resources: list[ResourceConfig] = Field(min_length=1, max_length=64)
    down_after_failures: int = Field(default=2, ge=1, le=10)


@dataclass(slots=True)
class ResourceState:
    observation: Observation | None = None
    latest: dict[str, FieldValue] | None = None
    latest_ts_ns: int = 0
    notifications: int = 0
    notified_since_poll: bool = False
    bad: int = 0
    last_code: str = ""
    last_bad: str = ""


@dataclass(slots=True)
class DeviceState:
    resources: dict[str, ResourceState] = field(default_factory=dict)
    # one client context (UDP socket) per device: a device's observations, retransmissions
    # and ICMP errors stay with it
    client: CoapClient = field(default_factory=CoapClient)


class CoapPoller:
    def __init__(self, cfg: CoapConfig, timeout_s: float, logger: logging.Logger) -> None:
        self.cfg = cfg
        self.timeout_s = timeout_s
        self.log = logger
        self.live = PollLiveness("coap", cfg.down_after_failures)
        self.devices: dict[str, DeviceState] = {}

    async def start(self) -> None:
        return None

    def _uri(self, target: Target, path: str) -> str:
        port = target.port or self.cfg.port
        if target.device is not None and PORT_LABEL in target.device.labels:
            try:
                port = int(target.device.labels[PORT_LABEL])
            except ValueError:
                raise CollectError(ErrorType.INTERNAL,
                                   f"{target.id}: {PORT_LABEL} is not a number") from None
        host = target.address
        if ":" in host:
            host = f"[{host}]"
        return f"coap://{host}:{port}{path}"

    def _take(self, rc: ResourceConfig, rs: ResourceState, r: Response, ts_ns: int) -> None:
        """A response or notification: keep its values, count what is bad."""
        rs.last_code = r.code
        if not r.success:
            return
        fmt = r.content_format if rc.format == "auto" else FORMATS[rc.format]
        try:
            rs.latest = decode(fmt, r.payload)
            rs.latest_ts_ns = ts_ns
        except BadPayload as exc:
            rs.bad += 1
            rs.last_bad = exc.reason
            if rs.bad == 1 or rs.bad % 100 == 0:
                self.log.warning("%s: bad payload (%s): %s", rc.path, exc.reason, exc)

    async def poll(self, target: Target) -> Sequence[Item]:
        dev = self.devices.setdefault(target.id, DeviceState())
        cls = class_name(target.device) if target.device is not None \
            else target.labels.get("iot_class", "unknown")
        wall = time.time_ns()
        items: list[Item] = []
        answered = False
        failure: CollectError | None = None
        for rc in self.cfg.resources:
            rs = dev.resources.setdefault(rc.path, ResourceState())
            uri = self._uri(target, rc.path)
            try:
                if rc.observe:
                    if rs.observation is None or not rs.observation.alive:
                        if rs.observation is not None:
                            self.log.info("%s: observation ended (%s); observing again", uri,
                                          rs.observation.ended_by)
                            rs.observation.cancel()

                        def notify(r: Response, rc: ResourceConfig = rc,
                                   rs: ResourceState = rs) -> None:
                            rs.notifications += 1
                            rs.notified_since_poll = True
                            self._take(rc, rs, r, time.time_ns())

                        rs.observation = None
                        rs.observation = await dev.client.observe(uri, self.timeout_s / 2,
                                                                   notify)
                        answered = True
                    elif rs.notified_since_poll:
                        answered = True
                    else:
                        # a quiet observation says nothing: ask, so a dead device shows
                        r = await dev.client.get(uri, self.timeout_s / 2)
                        self._take(rc, rs, r, time.time_ns())
                        answered = True
                    rs.notified_since_poll = False
                else:
                    r = await dev.client.get(uri, self.timeout_s / 2)
                    self._take(rc, rs, r, time.time_ns())
                    answered = True
            except CollectError as exc:
                failure = failure or exc
                if rs.observation is not None:
                    rs.observation.cancel()
                    rs.observation = None
                continue
            rfields: dict[str, FieldValue] = {
                "ok": 1 if rs.last_code.startswith("2.") else 0,
                "bad_payloads_total": rs.bad}
            if rc.observe:
                rfields["notifications_total"] = rs.notifications
            items.append(Metric("coap_resource", {"resource": rc.path, "code": rs.last_code},
                                rfields, wall))
            if rs.latest:
                items.append(Metric("coap_reading", {"resource": rc.path}, dict(rs.latest),
                                    rs.latest_ts_ns if rc.observe else wall))
        now = time.monotonic()
        if answered:
            ev = self.live.ok(target.id, cls, now, wall)
        else:
            reason = failure.error_type.value if failure is not None else "no_answer"
            ev = self.live.failed(target.id, cls, wall, reason, str(failure or ""))
        if ev is not None:
            items.append(ev)
        lm = self.live.metric(target.id, now, wall)
        if lm is not None:
            items.append(lm)
        if failure is not None:
            raise PartialCollect(items, failure.error_type, str(failure))
        return items

    async def close(self) -> None:
        for dev in self.devices.values():
            for rs in dev.resources.values():
                if rs.observation is not None:
                    rs.observation.cancel()
            await dev.client.close()


def build(cfg: CoapConfig, ctx: BuildContext) -> CoapPoller:
    return CoapPoller(cfg, ctx.timeout_s or 10.0, ctx.logger)


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "coap_reading", "a CoAP resource's values: JSON/CBOR maps (nested keys joined by _), "
        "SenML records by name, a plain-text number as `value`",
        tags=(tag("resource", "the resource path, e.g. /sensors/temp"),),
        open_fields=FieldKind.GAUGE),
    Measurement(
        "coap_resource", "how one resource answered",
        tags=(tag("resource", "the resource path"),
              tag("code", "CoAP response code of the last answer, e.g. 2.05 Content")),
        fields=(state("ok", "1 the last answer was a 2.xx success"),
                counter("bad_payloads_total", "", "payloads that could not be read"),
                counter("notifications_total", "", "Observe notifications received"))),
    IOT_DEVICE,
)

SPEC = PluginSpec(
    name="coap", kind=PluginKind.POLLER, config_model=CoapConfig, build=build,
    description="constrained devices over CoAP: GET/Observe of configured resources, "
                "JSON/CBOR/SenML payloads",
    example={"type": "coap", "resources": [{"path": "/sensors/temp", "observe": True}],
             "targets": {"inventory": False,
                         "static": [{"id": "coap-th", "ipv4": "127.0.0.1", "port": 5683}]}},
    default_targets=DefaultTargets.NONE,
    measurements=MEASUREMENTS,
)
