"""Resolved inventory: plain frozen data, inheritance already applied, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class DeviceKind(enum.StrEnum):
    CORE_SWITCH = "core_switch"
    AGGREGATION_SWITCH = "aggregation_switch"
    ACCESS_SWITCH = "access_switch"
    ROUTER = "router"
    FIREWALL = "firewall"
    WLAN_CONTROLLER = "wlan_controller"
    AP = "ap"
    CAMERA = "camera"
    NVR = "nvr"
    DOOR_ACCESS = "door_access"
    ATTENDANCE = "attendance"
    BROADCAST = "broadcast"
    PAYMENT = "payment"
    BIOMETRIC = "biometric"
    SENSOR = "sensor"
    SMART_CLASSROOM = "smart_classroom"
    CPE_5G = "5g_cpe"
    UPS = "ups"
    PRINTER = "printer"
    SERVER = "server"
    TERMINAL = "terminal"

    @property
    def is_switch(self) -> bool:
        return self in _SWITCHES

    @property
    def is_network(self) -> bool:
        """Network infrastructure (the IPv6-rollout and localization audits count these)."""
        return self in _NETWORK

    @property
    def is_iot(self) -> bool:
        return self in _IOT


_SWITCHES = frozenset(
    {DeviceKind.CORE_SWITCH, DeviceKind.AGGREGATION_SWITCH, DeviceKind.ACCESS_SWITCH}
)
_NETWORK = _SWITCHES | {
    DeviceKind.ROUTER, DeviceKind.FIREWALL, DeviceKind.WLAN_CONTROLLER, DeviceKind.AP,
}
_IOT = frozenset(
    {
        DeviceKind.CAMERA, DeviceKind.NVR, DeviceKind.DOOR_ACCESS, DeviceKind.ATTENDANCE,
        DeviceKind.BROADCAST, DeviceKind.PAYMENT, DeviceKind.BIOMETRIC, DeviceKind.SENSOR,
        DeviceKind.SMART_CLASSROOM, DeviceKind.CPE_5G,
    }
)


class RoomKind(enum.StrEnum):
    CLASSROOM = "classroom"
    LAB = "lab"  # 实训室 / laboratory
    OFFICE = "office"
    DORM = "dorm"
    LIBRARY = "library"
    CANTEEN = "canteen"
    HALL = "hall"  # 报告厅 / auditorium
    GYM = "gym"
    OUTDOOR = "outdoor"
    MACHINE_ROOM = "machine_room"
    CORRIDOR = "corridor"
    OTHER = "other"

    @property
    def is_teaching_place(self) -> bool:
        return self in (RoomKind.CLASSROOM, RoomKind.LAB, RoomKind.LIBRARY, RoomKind.HALL)


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    kind: DeviceKind
    campus: str
    building: str | None
    room: str | None
    ipv4: str | None = None
    ipv6: str | None = None
    mac: str | None = None  # lower-case, colon separated
    vendor: str | None = None
    model: str | None = None
    owner: str | None = None  # real-name registration
    credential: str | None = None
    roles: frozenset[str] = frozenset()
    parent: str | None = None
    parent_port: str | None = None
    services: frozenset[str] = frozenset()
    hostname: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    where: str = ""  # file:line it was declared at

    @property
    def address(self) -> str | None:
        """Preferred management address (IPv4 first: what most campus NMSs reach today)."""
        return self.ipv4 or self.ipv6 or self.hostname

    def tags(self) -> dict[str, str]:
        tags = {"campus": self.campus, "device": self.id, "kind": self.kind.value}
        if self.building:
            tags["building"] = self.building
        if self.room:
            tags["room"] = self.room
        if self.vendor:
            tags["vendor"] = self.vendor
        if self.roles:
            # comma-joined so a query can select e.g. roles=~".*egress.*"
            tags["roles"] = ",".join(sorted(self.roles))
        return tags


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    kind: RoomKind
    building: str
    floor: int | None = None
    where: str = ""


@dataclass(frozen=True, slots=True)
class Building:
    id: str
    name: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class Campus:
    code: str
    name: str
    students: int = 0
    staff: int = 0
    province: str | None = None
    where: str = ""


@dataclass(frozen=True, slots=True)
class Inventory:
    campus: Campus
    buildings: tuple[Building, ...]
    rooms: tuple[Room, ...]
    devices: tuple[Device, ...]
    source: str = ""
    _by_id: Mapping[str, Device] = field(default_factory=dict, repr=False, compare=False)
    _by_address: Mapping[str, Device] = field(default_factory=dict, repr=False, compare=False)
    _by_mac: Mapping[str, Device] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def build(
        campus: Campus,
        buildings: Iterable[Building],
        rooms: Iterable[Room],
        devices: Iterable[Device],
        source: str = "",
    ) -> Inventory:
        devs = tuple(devices)
        by_addr: dict[str, Device] = {}
        for d in devs:
            for a in (d.ipv4, d.ipv6):
                if a:
                    by_addr[a] = d
        return Inventory(
            campus, tuple(buildings), tuple(rooms), devs, source,
            {d.id: d for d in devs}, by_addr, {d.mac: d for d in devs if d.mac},
        )

    @staticmethod
    def empty(campus_code: str = "default") -> Inventory:
        return Inventory.build(Campus(campus_code, campus_code), (), (), ())

    def device(self, device_id: str) -> Device | None:
        return self._by_id.get(device_id)

    def by_address(self, address: str) -> Device | None:
        return self._by_address.get(address)

    def by_mac(self, mac: str) -> Device | None:
        return self._by_mac.get(mac.lower())

    def room(self, room_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == room_id), None)

    def children(self, device_id: str) -> list[Device]:
        return [d for d in self.devices if d.parent == device_id]
