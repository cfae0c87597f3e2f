from collectors.mqtt.plugin import SPEC

__all__ = ["SPEC"]
