"""IoT devices behind gateways that publish to MQTT: ChirpStack v4, zigbee2mqtt, Sparkplug B."""

from collectors.iot_gateways.plugin import SPEC

__all__ = ["SPEC"]
