"""The camera poller against a real RTSP server (GStreamer's, from Debian packages, streaming
a generated test pattern) and the recorded ONVIF answers (onvif_server.py: no ONVIF camera can
run here). The video stopped mid-run: "no video" while TCP still answers, down on the second
poll, up again when it returns."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Event, Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.camera.plugin import CameraConfig, CameraPoller, build
from collectors.camera.rtsp import check_stream
from config.credentials import UserPasswordCredential
from inventory.models import Inventory
from tests.collectors.camera.helpers import RtspCamera, start_camera
from tests.collectors.camera.onvif_server import OnvifCamera
from tests.servers import free_port

CRED = UserPasswordCredential.model_validate(
    {"name": "cams", "type": "user_password", "username": "admin", "password": "Campus#2024"})


@pytest.fixture(scope="module")
def onvif_camera() -> Iterator[OnvifCamera]:
    cam = OnvifCamera("admin", "Campus#2024").start()
    yield cam
    cam.stop()


def poller(tmp: Path, **cfg: object) -> CameraPoller:
    ctx = BuildContext(instance="camera/test", inventory=Inventory.empty("t"),
                       credentials={"cams": CRED}, data_dir=tmp, config_dir=tmp, timeout_s=8,
                       logger=logging.getLogger("test.camera"))
    conf = {"rtsp": {"path": "/stream", "frame_timeout_secs": 2.0,
                     "connect_timeout_secs": 1.0}, **cfg}
    return build(CameraConfig.model_validate(conf), ctx)


def target(cam: RtspCamera, onvif: OnvifCamera | None = None, cred: str | None = "cams"
           ) -> Target:
    labels = {"iot_class": "camera"}
    if onvif is not None:
        labels["onvif_port"] = str(onvif.port)
    return Target(id=f"cam-{cam.port}", ipv4="127.0.0.1", port=cam.port, credential=cred,
                  labels=labels)


async def poll(p: CameraPoller, t: Target) -> tuple[list[Item], ErrorType | None]:
    try:
        return list(await p.poll(t)), None
    except PartialCollect as exc:
        return list(exc.items), exc.error_type
    except CollectError as exc:
        return [], exc.error_type


def metric(items: list[Item], name: str) -> Metric:
    return next(i for i in items if isinstance(i, Metric) and i.name == name)


@pytest.mark.timeout(90)
async def test_video_onvif_and_no_video_while_tcp_answers(onvif_camera: OnvifCamera,
                                                          tmp_path: Path) -> None:
    cam = start_camera(tmp_path)
    p = poller(tmp_path)
    t = target(cam, onvif_camera)
    try:
        items, err = await poll(p, t)
        assert err is None
        s = metric(items, "camera_stream")
        assert s.tags == {"codec": "jpeg"}
        assert (s.fields["tcp_ok"], s.fields["describe_ok"], s.fields["video"]) == (1, 1, 1)
        assert isinstance(s.fields["first_frame_seconds"], float)
        info = metric(items, "camera_info")
        assert info.tags["manufacturer"] == "HIKVISION"
        assert info.tags["model"] == "DS-2CD2085FWD-I"
        profiles = {m.tags["profile"]: m.fields for m in items
                    if isinstance(m, Metric) and m.name == "camera_profile"}
        assert profiles["Profile_1"] == {"width_pixels": 1920, "height_pixels": 1080,
                                         "frame_rate_fps": 10.0, "bitrate_kbps": 16384.0}
        onvif = metric(items, "camera_onvif").fields
        assert onvif["ok"] == 1 and onvif["profiles"] == 2
        drift = onvif["clock_drift_seconds"]
        assert isinstance(drift, float) and drift < -5 * 365 * 86400  # a 2020 clock
        cam.stop_video()
        first, err1 = await poll(p, t)
        assert err1 is ErrorType.TIMEOUT
        s1 = metric(first, "camera_stream")
        # TCP still answers; there is no video
        assert (s1.fields["tcp_ok"], s1.fields["video"]) == (1, 0)
        assert s1.tags["reason"] == "no_video"
        assert not [i for i in first if isinstance(i, Event)]
        second, _ = await poll(p, t)
        downs = [i for i in second if isinstance(i, Event)]
        assert [e.kind for e in downs] == ["device_down"]
        assert downs[0].labels == {"iot_class": "camera", "reason": "no_video"}
        assert metric(second, "iot_device").fields["up"] == 0
        assert metric(second, "camera_onvif").fields["ok"] == 1  # its web service answers
        cam.resume_video()
        back, err3 = await poll(p, t)
        assert err3 is None
        assert [e.kind for e in back if isinstance(e, Event)] == ["device_up"]
        assert metric(back, "camera_stream").fields["video"] == 1
    finally:
        cam.stop()


@pytest.mark.timeout(90)
async def test_camera_process_gone_is_refused_then_back(tmp_path: Path) -> None:
    cam = start_camera(tmp_path)
    p = poller(tmp_path, onvif={"enabled": False})
    t = target(cam)
    try:
        _, err = await poll(p, t)
        assert err is None
        cam.stop()
        items, err = await poll(p, t)
        assert err is ErrorType.REFUSED
        s = metric(items, "camera_stream")
        assert (s.fields["tcp_ok"], s.tags["reason"]) == (0, "refused")
        cam.start()
        _, err = await poll(p, t)
        assert err is None
    finally:
        cam.stop()


@pytest.mark.timeout(90)
async def test_rtsp_authentication(tmp_path: Path) -> None:
    cam = start_camera(tmp_path, "admin", "Campus#2024")
    try:
        ok = await check_stream(cam.url, "admin", "Campus#2024", 2, 5)
        assert ok.video and ok.describe_status == 200
        no = await check_stream(cam.url, None, None, 2, 5)
        assert (no.video, no.reason, no.error_type) == (False, "auth", ErrorType.AUTH)
        bad = await check_stream(cam.url, "admin", "guess", 2, 5)
        assert bad.reason == "auth" and "guess" not in bad.detail
    finally:
        cam.stop()


@pytest.mark.timeout(60)
async def test_malformed_frames_are_counted_never_a_crash(tmp_path: Path) -> None:
    """An RTSP port that answers DESCRIBE/SETUP/PLAY, then sends garbage interleaved frames
    (not RTP version 2) and finally bytes that are no frame at all."""
    port = free_port()
    sdp = b"v=0\r\nm=video 0 RTP/AVP 26\r\na=control:trackID=0\r\na=rtpmap:26 JPEG/90000\r\n"

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            for _ in range(3):
                head = await r.readuntil(b"\r\n\r\n")
                cseq = next(line for line in head.split(b"\r\n") if line.startswith(b"CSeq"))
                body = sdp if head.startswith(b"DESCRIBE") else b""
                w.write(b"RTSP/1.0 200 OK\r\n" + cseq + b"\r\nSession: 42\r\nTransport: "
                        b"RTP/AVP/TCP;interleaved=0-1\r\nContent-Length: "
                        + str(len(body)).encode() + b"\r\n\r\n" + body)
            w.write(b"$\x00\x00\x10" + b"\x00" * 16)  # version 0: not RTP
            w.write(b"$\x00\x00\x04abcd")  # too short for RTP
            w.write(b"\xff\xfe garbage")
            await w.drain()
            await asyncio.sleep(1)
        w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        got = await check_stream(f"rtsp://127.0.0.1:{port}/x", None, None, 2, 3)
        assert (got.video, got.reason, got.error_type) == (False, "protocol",
                                                           ErrorType.PROTOCOL)
        assert got.malformed == 3 and got.describe_status == 200
        assert got.codec == "jpeg"
    finally:
        server.close()
        await server.wait_closed()
