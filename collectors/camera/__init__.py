"""IP cameras and NVRs: RTSP stream health and ONVIF."""

from collectors.camera.plugin import SPEC

__all__ = ["SPEC"]
