"""An RTSP camera for tests: GStreamer's RTSP server (Debian gir1.2-gst-rtsp-server-1.0)
streaming a generated test pattern as RTP/JPEG, run with Debian's python3 (PyGObject).

    /usr/bin/python3 tests/collectors/camera/rtsp_server.py PORT [USER PASSWORD]

SIGUSR1 stops the video mid-run while the RTSP server keeps answering on TCP (DESCRIBE, SETUP,
PLAY still succeed; no RTP frame flows): the "camera online but no video" case. SIGUSR2 brings
the video back. With USER and PASSWORD the stream needs Basic authentication.
"""

import signal
import sys

import gi  # type: ignore[import-not-found]  # Debian python3-gi, not in the venv

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402

LAUNCH = ("( videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,"
          "framerate=10/1 ! videoconvert ! video/x-raw,format=I420 ! valve name=gate drop=false ! "
          "jpegenc ! rtpjpegpay name=pay0 pt=26 )")


def main() -> None:
    Gst.init(None)
    port = sys.argv[1]
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    gates = []
    state = {"drop": False}

    def configured(_f, media):  # a new pipeline: its valve as the others
        g = media.get_element().get_by_name("gate")
        g.set_property("drop", state["drop"])
        gates.append(g)

    factory.connect("media-configure", configured)
    if len(sys.argv) == 4:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(sys.argv[2], sys.argv[3]), token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        role, _ = Gst.Structure.from_string(
            "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")
        perms.add_role_from_structure(role)
        factory.set_permissions(perms)
    server.get_mount_points().add_factory("/stream", factory)
    server.attach(None)
    loop = GLib.MainLoop()

    def gate(drop):
        state["drop"] = drop
        for g in gates:
            g.set_property("drop", drop)
        return GLib.SOURCE_CONTINUE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, gate, True)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR2, gate, False)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
