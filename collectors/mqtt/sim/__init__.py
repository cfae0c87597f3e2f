"""The IoT fleet simulator: an inventory it writes, and devices that publish over MQTT.

    from collectors.mqtt.sim import generate_inventory, run_fleet, start_fleet
    generate_inventory("iot-inventory.yaml", per_class=3)
    truth = run_fleet("127.0.0.1", 1883, "iot-inventory.yaml", duration_s=60)
"""

from collectors.mqtt.sim.fleet import FleetHandle, FleetOptions, run_fleet, start_fleet
from collectors.mqtt.sim.inventory_gen import generate_inventory

__all__ = ["FleetHandle", "FleetOptions", "generate_inventory", "run_fleet", "start_fleet"]
