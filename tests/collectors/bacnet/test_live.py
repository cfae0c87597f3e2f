"""The bacnet poller against a bacpypes3 device on loopback (device.py, its own process):
Who-Is, object list, present-value / status-flags / units by map, COV; a bad value counted;
garbage datagrams never a crash; the device stopped goes down within two polls and back."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Event, Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.bacnet.plugin import BacnetConfig, BacnetPoller, build
from inventory.models import Inventory
from tests.collectors.bacnet.device import OBJECTS
from tests.collectors.bacnet.helpers import BacnetDevice, local_address, start_device

MAP = [{"object": "analog-value,1", "name": "zone_temp_c"},
       {"object": "analog-input,2", "name": "supply_air_c"},
       {"object": "binary-value,3", "name": "fan_run"},
       {"object": "multi-state-value,4", "name": "mode"},
       {"object": "characterstring-value,5", "name": "note"},
       {"object": "analog-value,9", "name": "counter", "cov": True}]


def poller(tmp: Path, local: str | None = None) -> BacnetPoller:
    ctx = BuildContext(instance="bacnet/test", inventory=Inventory.empty("t"), credentials={},
                       data_dir=tmp, config_dir=tmp, timeout_s=3.0,
                       logger=logging.getLogger("test.bacnet"))
    cfg = BacnetConfig.model_validate({"local_address": local or local_address(),
                                       "local_instance": 999, "maps": {"ahu": MAP},
                                       "cov_lifetime_secs": 60})
    return build(cfg, ctx)


def target(dev: BacnetDevice) -> Target:
    return Target(id=f"ahu-{dev.port}", ipv4="127.0.0.1", port=dev.port,
                  labels={"bacnet_instance": str(dev.instance), "bacnet_map": "ahu",
                          "iot_class": "hvac"})


async def poll(p: BacnetPoller, t: Target) -> tuple[list[Item], ErrorType | None]:
    try:
        return list(await p.poll(t)), None
    except PartialCollect as exc:
        return list(exc.items), exc.error_type
    except CollectError as exc:
        return [], exc.error_type


def points(items: list[Item]) -> dict[str, Metric]:
    return {i.tags["point"]: i for i in items if isinstance(i, Metric)
            and i.name == "bacnet_point"}


def metric(items: list[Item], name: str) -> Metric:
    return next(i for i in items if isinstance(i, Metric) and i.name == name)


@pytest.mark.timeout(90)
async def test_points_status_units_and_cov(tmp_path: Path) -> None:
    dev = start_device(tmp_path)
    p = poller(tmp_path)
    t = target(dev)
    try:
        items, err = await poll(p, t)
        assert err is None
        pts = points(items)
        assert pts["zone_temp_c"].fields["present_value"] == OBJECTS["analog-value,1"][
            "presentValue"]
        assert pts["zone_temp_c"].tags == {"object": "analog-value,1", "point": "zone_temp_c",
                                           "units": "degrees-celsius"}
        supply = pts["supply_air_c"].fields
        assert supply["present_value"] == 16.25 and supply["out_of_service"] == 1
        assert supply["in_alarm"] == 0 and supply["fault"] == 0
        assert pts["fan_run"].fields["present_value"] == 1  # active
        assert pts["mode"].fields["present_value"] == 3
        assert "present_value" not in pts["note"].fields  # a string is not a reading
        books = metric(items, "bacnet_device")
        assert books.tags == {"instance": "1001"}
        assert books.fields["objects"] == len(OBJECTS) + 2  # + device and network-port
        assert books.fields["not_numbers_total"] == 1
        live = metric(items, "iot_device")
        assert live.tags == {"iot_class": "hvac", "protocol": "bacnet"}
        # COV: the counter steps every 0.3 s; notifications arrive between polls
        await asyncio.sleep(1.5)
        later, err = await poll(p, t)
        assert err is None
        b2 = metric(later, "bacnet_device").fields
        assert b2["cov_subscriptions"] == 1
        notes = b2["cov_notifications_total"]
        assert isinstance(notes, int) and notes >= 3
        c0 = pts["counter"].fields["present_value"]
        c1 = points(later)["counter"].fields["present_value"]
        assert isinstance(c0, float) and isinstance(c1, float) and c1 >= c0 + 2
    finally:
        await p.close()
        dev.stop()


@pytest.mark.timeout(90)
async def test_stopped_device_goes_down_within_two_polls_and_comes_back(tmp_path: Path) -> None:
    dev = start_device(tmp_path)
    p = poller(tmp_path)
    t = target(dev)
    try:
        _, err = await poll(p, t)
        assert err is None
        dev.stop()
        first, err1 = await poll(p, t)
        assert err1 is ErrorType.TIMEOUT
        assert not [i for i in first if isinstance(i, Event)]
        second, _ = await poll(p, t)
        downs = [i for i in second if isinstance(i, Event)]
        assert [e.kind for e in downs] == ["device_down"]
        assert downs[0].labels == {"iot_class": "hvac", "reason": "timeout"}
        dev.start()
        back, err3 = await poll(p, t)
        assert err3 is None
        assert [e.kind for e in back if isinstance(e, Event)] == ["device_up"]
        assert points(back)["zone_temp_c"].fields["present_value"] == 21.5
    finally:
        await p.close()
        dev.stop()


@pytest.mark.timeout(90)
async def test_garbage_datagrams_never_a_crash(tmp_path: Path) -> None:
    dev = start_device(tmp_path)
    local = local_address()
    p = poller(tmp_path, local)
    t = target(dev)
    port = int(local.rsplit(":", 1)[1])
    try:
        _, err = await poll(p, t)
        assert err is None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for junk in (b"\x81\x0a\x00\x04", b"\x81\x0a\xff\xff\x01\x00", b"\x00" * 3,
                         b"\x81\x0b\x00\x08\x01\x20\xff\xff", bytes(range(256))):
                s.sendto(junk, ("127.0.0.1", port))  # BVLC with lies, truncated NPDUs
        await asyncio.sleep(0.3)
        items, err = await poll(p, t)
        assert err is None
        assert points(items)["zone_temp_c"].fields["present_value"] == 21.5
    finally:
        await p.close()
        dev.stop()


@pytest.mark.timeout(90)
async def test_discovery_reports_devices_outside_the_inventory(tmp_path: Path) -> None:
    known = start_device(tmp_path / "known")
    stranger = start_device(tmp_path / "stranger", instance=2002)
    ctx = BuildContext(instance="bacnet/test", inventory=Inventory.empty("t"), credentials={},
                       data_dir=tmp_path, config_dir=tmp_path, timeout_s=3.0,
                       logger=logging.getLogger("test.bacnet"))
    cfg = BacnetConfig.model_validate({
        "local_address": local_address(), "local_instance": 999, "maps": {"ahu": MAP},
        # a directed broadcast on a real network; here the stranger's own address
        "discovery_address": stranger.address, "discovery_every_polls": 2})
    p = build(cfg, ctx)
    t = target(known)
    try:
        first, err = await poll(p, t)
        assert err is None
        found = [i for i in first if isinstance(i, Event)
                 and i.kind == "unregistered_iot_device"]
        assert [(e.labels["device_id"], e.labels["address"]) for e in found] == [
            ("bacnet:2002", stranger.address)]
        second, _ = await poll(p, t)  # not due
        third, _ = await poll(p, t)  # due again: reported once only
        assert not [i for i in [*second, *third] if isinstance(i, Event)
                    and i.kind == "unregistered_iot_device"]
    finally:
        await p.close()
        known.stop()
        stranger.stop()
