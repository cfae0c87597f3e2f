"""The IoT fleet simulator: an inventory it writes, and devices that publish over MQTT.

    from collectors.mqtt.sim import generate_inventory, run_fleet, start_fleet
    generate_inventory("iot-inventory.yaml", per_class=3)
    truth = run_fleet("127.0.0.1", 1883, "iot-inventory.yaml", duration_s=60)

For the demo: `broker, why = start_local_broker()` (None and the reason when mosquitto is
missing), `generate_inventory(path, base=campus_inventory)` to add the fleet to the SNMP campus,
`handle = start_fleet(broker.host, broker.port, path)`, `mqtt_input(...)` for the agent config,
and `handle.stop()` (returns the ground truth) then `broker.stop()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collectors.mqtt.sim.broker import LocalBroker, mqtt_input, start_local_broker
from collectors.mqtt.sim.inventory_gen import generate_inventory

if TYPE_CHECKING:
    from collectors.mqtt.sim.fleet import FleetHandle, FleetOptions, Truth, run_fleet, start_fleet

_FLEET = frozenset({"FleetHandle", "FleetOptions", "Truth", "run_fleet", "start_fleet"})


def __getattr__(name: str) -> Any:
    # The fleet publishes with paho (client.py): loaded when a name of it is first used, not
    # when the mqtt plugin registers its `sim-iot` command (every start).
    if name in _FLEET:
        from collectors.mqtt.sim import fleet

        return getattr(fleet, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["FleetHandle", "FleetOptions", "LocalBroker", "Truth", "generate_inventory",
           "mqtt_input", "run_fleet", "start_fleet", "start_local_broker"]
