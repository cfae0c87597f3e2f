"""The `camera` poller: IP cameras and NVRs — is there video, not only a ping?

Each poll: RTSP stream health (`rtsp.py`: DESCRIBE answered, first frame within
`frame_timeout_secs` of PLAY) and, when enabled, ONVIF (`onvif.py`: clock drift, identity,
media profiles). A camera whose RTSP port answers but gives no video is down with reason
`no_video` (`camera_stream.tcp_ok` = 1 says TCP still answers) — the case a ping misses.

Where to find the stream: inventory labels `rtsp_path` (e.g. Hikvision
`/Streaming/Channels/101`), `rtsp_port`, `onvif_port`, else the config. The login is the
device's credential set (`user_password`), else the config's `credential`; it goes only into
RTSP Authorization headers and WS-Security tokens, never into URLs, logs or tags.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from agent.core.catalogue import Measurement, counter, gauge, info, state, tag
from agent.core.errors import CollectError, ConfigError, PartialCollect
from agent.core.model import ErrorType, FieldValue, Item, Metric
from agent.core.plugin import (
    BuildContext,
    Capability,
    DefaultTargets,
    PluginKind,
    PluginSpec,
    Target,
)
from agent.shared.iotclasses import class_name
from agent.shared.iotliveness import IOT_DEVICE, PollLiveness
from collectors.camera.rtsp import StreamCheck, check_stream
from config.base import StrictModel
from config.credentials import Credential, UserPasswordCredential

if TYPE_CHECKING:  # onvif.py (xml.etree, urllib.request) loads when ONVIF is polled
    from collectors.camera.onvif import OnvifError, OnvifInfo


class RtspConfig(StrictModel):
    port: int = Field(default=554, ge=1, le=65535)
    path: str = Field(default="/", pattern=r"^/[^\s]*$", max_length=255)
    connect_timeout_secs: float = Field(default=3.0, gt=0)
    frame_timeout_secs: float = Field(default=5.0, gt=0)


class OnvifConfig(StrictModel):
    enabled: bool = True
    port: int = Field(default=80, ge=1, le=65535)
    path: str = Field(default="/onvif/device_service", pattern=r"^/[^\s]*$")
    timeout_secs: float = Field(default=3.0, gt=0)


class CameraConfig(StrictModel):
    rtsp: RtspConfig = RtspConfig()
    onvif: OnvifConfig = OnvifConfig()
    credential: str | None = None  # for cameras whose inventory entry names none
    down_after_failures: int = Field(default=2, ge=1, le=10)


@dataclass(slots=True)
class Books:
    malformed: int = 0
    onvif_failures: int = 0


def _label(t: Target, name: str) -> str | None:
    if name in t.labels:
        return t.labels[name]
    return t.device.labels.get(name) if t.device is not None else None


class CameraPoller:
    def __init__(self, cfg: CameraConfig, credentials: Mapping[str, Credential],
                 logger: logging.Logger) -> None:
        self.cfg = cfg
        self.credentials = credentials
        self.log = logger
        self.live = PollLiveness("rtsp", cfg.down_after_failures)
        self.books: dict[str, Books] = {}

    async def start(self) -> None:
        return None

    def _login(self, t: Target) -> tuple[str | None, str | None]:
        name = t.credential or self.cfg.credential
        if name is None:
            return None, None
        cred = self.credentials.get(name)
        if not isinstance(cred, UserPasswordCredential):
            raise CollectError(ErrorType.AUTH, f"{t.id}: credential {name!r} is not a "
                                               f"user_password set")
        return cred.username, cred.password.get_secret_value()

    def _url(self, t: Target, scheme: str, port_label: str, port: int, path: str) -> str:
        host = t.address
        if ":" in host:
            host = f"[{host}]"
        raw = _label(t, port_label)
        try:
            p = int(raw) if raw is not None else (t.port if scheme == "rtsp" and t.port
                                                  else port)
        except ValueError:
            raise CollectError(ErrorType.INTERNAL, f"{t.id}: {port_label} is not a number"
                               ) from None
        return f"{scheme}://{host}:{p}{path}"

    async def poll(self, target: Target) -> Sequence[Item]:
        cls = class_name(target.device) if target.device is not None \
            else target.labels.get("iot_class", "camera")
        user, password = self._login(target)
        books = self.books.setdefault(target.id, Books())
        wall = time.time_ns()
        rc = self.cfg.rtsp
        url = self._url(target, "rtsp", "rtsp_port", rc.port,
                        _label(target, "rtsp_path") or rc.path)
        check = await check_stream(url, user, password, rc.connect_timeout_secs,
                                   rc.frame_timeout_secs)
        books.malformed += check.malformed
        items: list[Item] = [self._stream_metric(check, books, wall)]
        onvif_error: OnvifError | None = None
        if self.cfg.onvif.enabled:
            from collectors.camera.onvif import Onvif, OnvifError

            oc = self.cfg.onvif
            client = Onvif(self._url(target, "http", "onvif_port", oc.port, oc.path), user,
                           password, oc.timeout_secs)
            try:
                got = await asyncio.to_thread(client.collect)
                items.extend(self._onvif_items(got, wall))
            except OnvifError as exc:
                onvif_error = exc
                books.onvif_failures += 1
                items.append(Metric("camera_onvif", {}, {
                    "ok": 0, "failures_total": books.onvif_failures}, wall))
        now = time.monotonic()
        if check.video:
            ev = self.live.ok(target.id, cls, now, wall)
        else:
            ev = self.live.failed(target.id, cls, wall, check.reason or "no_video",
                                  check.detail)
        if ev is not None:
            items.append(ev)
        lm = self.live.metric(target.id, now, wall)
        if lm is not None:
            items.append(lm)
        if not check.video:
            raise PartialCollect(items, check.error_type or ErrorType.TIMEOUT,
                                 f"{check.reason}: {check.detail}")
        if onvif_error is not None:
            raise PartialCollect(items, onvif_error.error_type, f"ONVIF: {onvif_error}")
        return items

    def _stream_metric(self, c: StreamCheck, books: Books, wall: int) -> Metric:
        fields: dict[str, FieldValue] = {
            "tcp_ok": int(c.tcp_ok), "describe_ok": int(c.describe_status == 200),
            "video": int(c.video), "rtp_packets": c.packets,
            "malformed_total": books.malformed}
        if c.describe_seconds is not None:
            fields["describe_seconds"] = round(c.describe_seconds, 4)
        if c.first_frame_seconds is not None:
            fields["first_frame_seconds"] = round(c.first_frame_seconds, 4)
        tags = {"codec": c.codec} if c.codec else {}
        if c.reason:
            tags["reason"] = c.reason
        return Metric("camera_stream", tags, fields, wall)

    def _onvif_items(self, got: OnvifInfo, wall: int) -> list[Item]:
        fields: dict[str, FieldValue] = {"ok": 1, "profiles": len(got.profiles)}
        if got.clock_drift_s is not None:
            fields["clock_drift_seconds"] = got.clock_drift_s
        out: list[Item] = [Metric("camera_onvif", {}, fields, wall)]
        facts = {"manufacturer": got.manufacturer, "model": got.model,
                 "firmware": got.firmware, "serial": got.serial,
                 "hardware_id": got.hardware_id}
        out.append(Metric("camera_info", {k: v for k, v in facts.items() if v}, {"info": 1},
                          wall))
        for p in got.profiles:
            pf: dict[str, FieldValue] = {}
            if p.width is not None:
                pf["width_pixels"] = p.width
            if p.height is not None:
                pf["height_pixels"] = p.height
            if p.fps is not None:
                pf["frame_rate_fps"] = p.fps
            if p.bitrate_kbps is not None:
                pf["bitrate_kbps"] = p.bitrate_kbps
            if pf:
                out.append(Metric("camera_profile", {"profile": p.token or p.name,
                                                     "encoding": p.encoding}, pf, wall))
        return out

    async def close(self) -> None:
        return None


def build(cfg: CameraConfig, ctx: BuildContext) -> CameraPoller:
    if cfg.credential is not None and not isinstance(ctx.credentials.get(cfg.credential),
                                                     UserPasswordCredential):
        raise ConfigError.one(ctx.instance, f"credential {cfg.credential!r} is not a "
                                            f"user_password set")
    return CameraPoller(cfg, ctx.credentials, ctx.logger)


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "camera_stream", "RTSP stream health: is there video, not only a TCP port",
        tags=(tag("codec", "video codec of the SDP (h264, h265, jpeg …)"),
              tag("reason", "why there is no video: no_video, refused, timeout, auth, "
                            "not_found, protocol, unreachable")),
        fields=(state("tcp_ok", "1 the RTSP port took the connection"),
                state("describe_ok", "1 DESCRIBE was answered 200 with an SDP"),
                state("video", "1 a complete frame arrived within frame_timeout_secs"),
                gauge("describe_seconds", "seconds", "DESCRIBE round trip"),
                gauge("first_frame_seconds", "seconds", "PLAY to the first complete frame"),
                gauge("rtp_packets", "", "RTP packets read before the first frame"),
                counter("malformed_total", "", "interleaved frames that were not RTP"))),
    Measurement(
        "camera_onvif", "ONVIF answers of a camera",
        fields=(state("ok", "1 every ONVIF call of the poll was answered"),
                gauge("clock_drift_seconds", "seconds",
                      "camera clock minus the agent's (GetSystemDateAndTime, UTC)"),
                gauge("profiles", "", "media profiles"),
                counter("failures_total", "", "polls whose ONVIF calls failed"))),
    Measurement(
        "camera_info", "a camera's identity (ONVIF GetDeviceInformation)",
        tags=(tag("manufacturer", "as the camera reports it"), tag("model", "model"),
              tag("firmware", "firmware version"), tag("serial", "serial number"),
              tag("hardware_id", "hardware id")),
        fields=(info(),)),
    Measurement(
        "camera_profile", "one ONVIF media profile's video encoder",
        tags=(tag("profile", "profile token"), tag("encoding", "H264, H265, JPEG …")),
        fields=(gauge("width_pixels", "pixels", "encoded width"),
                gauge("height_pixels", "pixels", "encoded height"),
                gauge("frame_rate_fps", "fps", "frame rate limit"),
                gauge("bitrate_kbps", "kbps", "bit rate limit"))),
    IOT_DEVICE,
)

SPEC = PluginSpec(
    name="camera", kind=PluginKind.POLLER, config_model=CameraConfig, build=build,
    description="IP cameras and NVRs: RTSP video health (DESCRIBE, first frame), ONVIF "
                "clock drift, identity and profiles",
    example={"type": "camera", "rtsp": {"path": "/Streaming/Channels/101"},
             "targets": {"kinds": ["camera", "nvr"]}},
    default_targets=DefaultTargets.NONE,
    capabilities=Capability.CREDENTIAL,
    measurements=MEASUREMENTS,
)
