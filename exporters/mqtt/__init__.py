from exporters.mqtt.plugin import SPEC

__all__ = ["SPEC"]
