"""A GStreamer RTSP camera (rtsp_server.py) as a restartable server process."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import ServerProcess, free_port, unavailable

SERVER = Path(__file__).parent / "rtsp_server.py"
PY = "/usr/bin/python3"  # Debian's Python: PyGObject and the GStreamer RTSP server


def require_gst_rtsp() -> None:
    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import GstRtspServer")
    try:
        ok = os.path.exists(PY) and subprocess.run(
            [PY, "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        unavailable("the GStreamer RTSP server (Debian gir1.2-gst-rtsp-server-1.0, "
                    "gstreamer1.0-plugins-base/-good, python3-gi) is not installed")


class _Ready:
    def __init__(self, path: Path) -> None:
        self.path, self.starts = path, 0

    def __call__(self) -> None:
        self.starts += 1
        for _ in range(300):
            if self.path.exists() and self.path.read_text().count("ready") >= self.starts:
                return
            time.sleep(0.05)
        raise RuntimeError("the RTSP server did not start")


@dataclass
class RtspCamera:
    server: ServerProcess
    port: int

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def stop_video(self) -> None:
        """Mid-run: the encoder stops, the RTSP server keeps taking connections."""
        assert self.server.proc is not None
        self.server.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)

    def resume_video(self) -> None:
        assert self.server.proc is not None
        self.server.proc.send_signal(signal.SIGUSR2)
        time.sleep(0.3)

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()


def start_camera(tmp: Path, user: str | None = None, password: str | None = None
                 ) -> RtspCamera:
    require_gst_rtsp()
    port = free_port()
    log = tmp / f"rtsp-{port}.log"
    argv = [PY, str(SERVER), str(port), *([user, password] if user and password else [])]
    srv = ServerProcess(argv, _Ready(log), log)
    srv.start()
    return RtspCamera(srv, port)
