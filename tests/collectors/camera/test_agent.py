"""The camera input inside the agent: the GStreamer RTSP camera and the recorded ONVIF answers
(no ONVIF camera can run here) come back from the local store and VictoriaMetrics; the video
stopped mid-run takes the camera down ("no_video") on the second poll and back up."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.collectors.agentrun import (
    failed_in_a_row_before,
    running_agent,
    stored,
    vm_last,
    wait_until,
    write_config,
)
from tests.collectors.camera.helpers import start_camera
from tests.collectors.camera.onvif_server import OnvifCamera
from tests.servers import VictoriaMetrics


@pytest.mark.timeout(150)
async def test_camera_health_reaches_store_and_victoriametrics(
        victoria_metrics: VictoriaMetrics, tmp_path: Path) -> None:
    cam = start_camera(tmp_path)
    onvif = OnvifCamera("admin", "Campus#2024").start()
    campus = f"cam-{uuid.uuid4().hex[:6]}"
    inv = {"campus": {"code": campus, "name": "camera it"},
           "buildings": [{"id": "a", "name": "A", "rooms": [
               {"id": "a-gate", "name": "校门", "kind": "outdoor", "devices": [
                   {"id": "cam-gate", "kind": "camera", "ipv4": "127.0.0.1",
                    "credential": "cams",
                    "labels": {"rtsp_port": str(cam.port), "rtsp_path": "/stream",
                               "onvif_port": str(onvif.port)}}]}]}]}
    cfg = write_config(tmp_path, inv, [{
        "type": "camera", "targets": {"kinds": ["camera"]},
        "rtsp": {"frame_timeout_secs": 1.0, "connect_timeout_secs": 0.5},
        "onvif": {"timeout_secs": 1.0}}],
        victoria_metrics.url, interval_s=2.0, timeout_s=3.5)
    text = cfg.read_text()
    cfg.write_text(text + "credentials:\n  - {name: cams, type: user_password, username: admin,"
                          " password: 'Campus#2024'}\n")
    data = tmp_path / "data"
    try:
        async with running_agent(cfg):
            rows = await wait_until(lambda: [r for r in stored(data, "camera_stream",
                                                               device="cam-gate")
                                             if r.fields["video"] == 1], 30)
            assert rows[-1].tags["room"] == "a-gate"
            info = await wait_until(lambda: stored(data, "camera_info", device="cam-gate"))
            assert info[-1].tags["model"] == "DS-2CD2085FWD-I"
            prof = stored(data, "camera_profile", device="cam-gate", profile="Profile_2")
            assert prof[-1].fields == {"width_pixels": 640, "height_pixels": 360,
                                       "frame_rate_fps": 25.0, "bitrate_kbps": 768.0}
            t_stop = time.time_ns()
            cam.stop_video()
            downs = await wait_until(lambda: [e for e in stored(data, "event", device="cam-gate")
                                              if e.tags["event_kind"] == "device_down"], 30)
            assert downs[0].tags["reason"] == "no_video"
            no_video = [r for r in stored(data, "camera_stream", device="cam-gate")
                        if r.fields["video"] == 0 and r.ts_ns >= t_stop]
            assert no_video and all(r.fields["tcp_ok"] == 1 for r in no_video)
            streams = stored(data, "camera_stream", device="cam-gate")
            assert failed_in_a_row_before(streams, downs[0].ts_ns, "video") == 2
            cam.resume_video()
            await wait_until(lambda: [e for e in stored(data, "event", device="cam-gate")
                                      if e.tags["event_kind"] == "device_up"], 30)
            vm = await wait_until(lambda: vm_last(
                victoria_metrics.url, "camera_profile_.*", device="cam-gate",
                profile="Profile_1"))
            assert vm == {"camera_profile_width_pixels": 1920.0,
                          "camera_profile_height_pixels": 1080.0,
                          "camera_profile_frame_rate_fps": 10.0,
                          "camera_profile_bitrate_kbps": 16384.0}
            await wait_until(lambda: vm_last(victoria_metrics.url, "camera_stream_video",
                                             device="cam-gate")
                             == {"camera_stream_video": 1.0}, 30)
    finally:
        cam.stop()
        onvif.stop()
