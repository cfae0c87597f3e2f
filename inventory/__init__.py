"""Campus inventory: campus > building > room > device, from YAML plus CSV imports."""

from inventory.models import Building, Campus, Device, DeviceKind, Inventory, Room, RoomKind

__all__ = ["Building", "Campus", "Device", "DeviceKind", "Inventory", "Room", "RoomKind"]
