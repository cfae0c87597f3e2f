"""The ssh poller against the fake devices (a real SSH server on loopback, see fakedevice.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Item, Metric
from agent.core.plugin import BuildContext, Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from collectors.ssh.config import SshConfig, SshDeviceOptions
from collectors.ssh.platforms import Platform
from collectors.ssh.plugin import SshCollector
from config.credentials import SshCredential
from inventory.models import Device, DeviceKind, Inventory
from tests.collectors.ssh.fakedevice import FakeDevices


def _cred(name: str, user: str, password: str | None = None, *, key: Path | None = None,
          enable: str | None = None) -> SshCredential:
    return SshCredential(
        name=name, type="ssh", username=user,
        password=SecretStr(password) if password else None,
        key_file=str(key) if key else None,
        enable_secret=SecretStr(enable) if enable else None)


def _creds(fake: FakeDevices) -> dict[str, SshCredential]:
    cs = [
        _cred("huawei", "huawei", "Huawei@123"),
        _cred("h3c-key", "h3c", key=fake.client_key_path),
        _cred("h3c-key-enable", "h3c", key=fake.client_key_path, enable="not-for-comware"),
        _cred("ruijie", "ruijie", "Ruijie@123", enable="ruijie-en"),
        _cred("rj-bad-enable", "ruijie", "Ruijie@123", enable="nope"),
        _cred("cisco", "cisco", "Cisco@123", enable="cisco-en"),
        _cred("zte", "zte", "Zte@1234", enable="zte-en"),
        _cred("cisco-no-enable", "cisco", "Cisco@123"),
        _cred("wrong", "huawei", "not-the-password"),
        _cred("hang", "hang", "Hang@123"),
        _cred("garbage", "garbage", "Garbage@123"),
        _cred("nopager", "nopager", "NoPager@123"),
        _cred("mute", "mute", "Mute@123"),
    ]
    return {c.name: c for c in cs}


def _target(fake: FakeDevices, id_: str, vendor: str, cred: str,
            kind: DeviceKind = DeviceKind.CORE_SWITCH) -> Target:
    dev = Device(id_, kind, "hn-demo", "dc", "dc-101", ipv4="127.0.0.1", vendor=vendor,
                 credential=cred)
    return Target(id=id_, device=dev, ipv4="127.0.0.1", port=fake.port, credential=cred)


def _collector(fake: FakeDevices, **cfg: object) -> SshCollector:
    ctx = BuildContext(instance="ssh/ssh", inventory=Inventory.empty("hn-demo"),
                       credentials=_creds(fake), data_dir=Path("/nonexistent"),
                       config_dir=Path("/nonexistent"))
    return SshCollector(SshConfig.model_validate({"session_timeout_secs": 10.0, **cfg}), ctx)


def _one(items: Sequence[Item], name: str) -> Metric:
    found = [i for i in items if isinstance(i, Metric) and i.name == name]
    assert len(found) == 1, [i for i in items if isinstance(i, Metric)]
    return found[0]


def _all(items: Sequence[Item], name: str) -> list[Metric]:
    return [i for i in items if isinstance(i, Metric) and i.name == name]


async def _workers_done(col: SshCollector) -> None:
    """Bounded wait for every worker thread to notice an abort and end its session."""
    for _ in range(100):
        if not col._live:
            return
        await asyncio.sleep(0.05)
    assert not col._live, "a worker thread kept its session after the poll was cancelled"


async def _partial(fake: FakeDevices, target: Target, **cfg: object) -> PartialCollect:
    """Poll expecting part of the data: the version must have arrived before the failure."""
    col = _collector(fake, **cfg)
    try:
        with pytest.raises(PartialCollect) as err:
            await col.poll(target)
    finally:
        await col.close()
    assert _one(err.value.items, "ssh_device_info")
    return err.value


@pytest.mark.timeout(60)
async def test_vendors_concurrently(fake_devices: FakeDevices) -> None:
    """Huawei (password, AC: AP list), H3C (SSH key), Ruijie, Cisco and ZTE (enable +
    secret), polled at the same time."""
    col = _collector(fake_devices)
    await col.start()
    targets = [
        _target(fake_devices, "ac-1", "Huawei", "huawei", DeviceKind.WLAN_CONTROLLER),
        _target(fake_devices, "h3c-core", "H3C", "h3c-key"),
        _target(fake_devices, "rj-acc", "锐捷", "ruijie", DeviceKind.ACCESS_SWITCH),
        _target(fake_devices, "cisco-agg", "Cisco", "cisco", DeviceKind.AGGREGATION_SWITCH),
        _target(fake_devices, "zte-agg", "中兴", "zte", DeviceKind.AGGREGATION_SWITCH),
    ]
    logins = fake_devices.sessions
    try:
        results = await asyncio.gather(*(col.poll(t) for t in targets))
    finally:
        await col.close()
    assert fake_devices.sessions - logins == 5  # one login per device for all its commands
    hw, h3c, rj, cisco, zte = results

    info = _one(hw, "ssh_device_info").tags
    assert (info["detected_vendor"], info["model"], info["os_version"], info["domestic"]) == (
        "Huawei", "AR617VW-LTE4EA", "V300R019C13SPC200", "yes")
    assert info["hostname"] == "HUAWEI"  # from the prompt <HUAWEI>
    assert len(_all(hw, "wlan_ap")) == 4
    assert _one(hw, "wlan_controller").fields["aps_up"] == 1
    assert len(_all(hw, "ssh_interface_ipv6")) == 10
    assert len(_all(hw, "ssh_lldp_neighbor")) == 2  # the long LLDP output came unpaged

    assert _one(h3c, "ssh_device_info").tags["model"] == "S7510E"
    assert _one(h3c, "ssh_ipv6").fields["interfaces_with_global_ipv6"] == 3
    assert len(_all(h3c, "ssh_lldp_neighbor")) == 4

    assert _one(rj, "ssh_device_info").tags["os_version"] == "10.4(3b19)p3"
    assert _one(rj, "ssh_ipv6").fields["global_addresses"] == 2  # privileged-only command

    assert _one(cisco, "ssh_device_info").tags["domestic"] == "no"
    assert _one(cisco, "ssh_device_info").tags["hostname"] == "router1"  # show version wins
    # 78 interfaces, ~190 lines: only complete because `terminal length 0` turned the pager off
    assert _one(cisco, "ssh_ipv6").fields == {
        "interfaces": 78, "interfaces_with_global_ipv6": 18, "global_addresses": 30}
    assert len(_all(cisco, "ssh_lldp_neighbor")) == 4
    zte_info = _one(zte, "ssh_device_info").tags
    assert (zte_info["model"], zte_info["os_version"], zte_info["domestic"]) == (
        "ZXCTN 6120H-S", "V5.10.00.50", "yes")
    wlan_ap = _all(hw, "wlan_ap")[0]
    assert wlan_ap.tags["controller"] == "ac-1" and wlan_ap.tags["ap_state"] == "up"


@pytest.mark.timeout(60)
async def test_tick_with_broken_devices(fake_devices: FakeDevices) -> None:
    """Wrong password, a device that hangs mid-command and one answering garbage each get a
    clear error type; the healthy devices of the same tick are collected within the timeout."""
    col = _collector(fake_devices, session_timeout_secs=30.0)  # the framework's timeout acts
    await col.start()
    targets = [
        _target(fake_devices, "hw-ok", "Huawei", "huawei"),
        _target(fake_devices, "cisco-ok", "Cisco", "cisco"),
        _target(fake_devices, "rj-ok", "Ruijie", "ruijie"),
        _target(fake_devices, "wrong-pass", "Huawei", "wrong"),
        _target(fake_devices, "hung-sw", "Huawei", "hang"),
        _target(fake_devices, "junk-sw", "Huawei", "garbage"),
    ]
    outcomes: dict[str, PollOutcome] = {}
    items: dict[str, Sequence[Item]] = {}

    def sink(its: Sequence[Item], target: Target | None, outcome: PollOutcome | None) -> None:
        assert target is not None and outcome is not None
        outcomes[target.id], items[target.id] = outcome, its

    runner = PollerRunner(
        "ssh/ssh", col, targets, PollerTiming(interval_s=60, timeout_s=12.0, jitter_s=0),
        asyncio.Semaphore(16), asyncio.Semaphore(16), sink, PluginStats("ssh", "ssh/ssh"))
    try:
        await runner.run_once()
        assert set(outcomes) == {t.id for t in targets}
        for ok in ("hw-ok", "cisco-ok", "rj-ok"):
            assert outcomes[ok].ok, outcomes[ok]
            assert _one(items[ok], "ssh_device_info")
        assert outcomes["wrong-pass"].error is ErrorType.AUTH
        assert "authentication failed" in outcomes["wrong-pass"].detail
        assert outcomes["hung-sw"].error is ErrorType.TIMEOUT
        assert outcomes["junk-sw"].error is ErrorType.PARSE
        assert "junk-sw: display version:" in outcomes["junk-sw"].detail
        # the hung device's worker thread ends soon after the framework gave up on it
        await _workers_done(col)
    finally:
        await col.close()


@pytest.mark.timeout(40)
async def test_hang_ends_by_netmiko_read_timeout_when_budget_is_smaller(
        fake_devices: FakeDevices) -> None:
    """With the session budget below the tick timeout, the session ends itself: partial data
    (version arrived) and a timeout for the command that hung."""
    err = await _partial(fake_devices, _target(fake_devices, "hung-sw", "Huawei", "hang"),
                         session_timeout_secs=8.0)
    assert err.error_type is ErrorType.TIMEOUT
    assert "display ipv6 interface brief" in str(err)


@pytest.mark.timeout(40)
async def test_privilege_levels(fake_devices: FakeDevices) -> None:
    """Cisco without an enable secret stays at `Switch>`: privileged-only commands are refused
    (permission), what user EXEC may run still arrives. Ruijie's wrong enable secret fails the
    login as a permission error."""
    col = _collector(fake_devices, devices={
        "rj-bad": SshDeviceOptions(platform=Platform.RUIJIE_OS)})
    await col.start()
    try:
        with pytest.raises(PartialCollect) as err:
            await col.poll(_target(fake_devices, "cisco-user", "Cisco", "cisco-no-enable"))
        with pytest.raises(CollectError) as rj:
            await col.poll(_target(fake_devices, "rj-bad", "", "rj-bad-enable"))
    finally:
        await col.close()
    assert err.value.error_type is ErrorType.PERMISSION
    assert "show ipv6 interface brief: refused: % Invalid input" in str(err.value)
    assert [i.name for i in err.value.items if isinstance(i, Metric)][:1] == ["ssh_device_info"]
    assert rj.value.error_type is ErrorType.PERMISSION


@pytest.mark.timeout(20)
async def test_configuration_errors_name_the_device(fake_devices: FakeDevices) -> None:
    col = _collector(fake_devices, devices={"static-1": {"platform": "huawei"}})
    with pytest.raises(CollectError) as no_platform:
        await col.poll(_target(fake_devices, "cam-1", "Hikvision", "huawei"))
    assert no_platform.value.error_type is ErrorType.PROTOCOL
    assert "cam-1: no SSH platform for vendor 'Hikvision'" in str(no_platform.value)
    with pytest.raises(CollectError) as no_cred:
        await col.poll(Target(id="static-1", ipv4="127.0.0.1", port=fake_devices.port))
    assert no_cred.value.error_type is ErrorType.AUTH
    await col.close()


@pytest.mark.timeout(20)
async def test_refused_connection(fake_devices: FakeDevices) -> None:
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    col = _collector(fake_devices)
    t = _target(fake_devices, "gone", "Huawei", "huawei")
    t = Target(id=t.id, device=t.device, ipv4="127.0.0.1", port=port, credential="huawei")
    try:
        with pytest.raises(CollectError) as err:
            await col.poll(t)
    finally:
        await col.close()
    assert err.value.error_type is ErrorType.REFUSED


@pytest.mark.timeout(30)
async def test_pager_left_on_is_a_clear_error(fake_devices: FakeDevices) -> None:
    """An old VRP account that may not run `screen-length 0 temporary` keeps its pager: short
    outputs arrive, a paged one is reported as such (not as a silent timeout)."""
    err = await _partial(fake_devices, _target(fake_devices, "old-vrp", "Huawei", "nopager"))
    assert err.error_type is ErrorType.PROTOCOL
    assert "old-vrp: display ipv6 interface brief: output is paged" in str(err)


def test_session_budget_derives_from_the_framework_timeout(fake_devices: FakeDevices) -> None:
    ctx = BuildContext(instance="ssh/ssh", inventory=Inventory.empty(), credentials={},
                       data_dir=Path("/nonexistent"), config_dir=Path("/nonexistent"),
                       timeout_s=30.0)
    assert SshCollector(SshConfig(), ctx).session_timeout_s == pytest.approx(24.0)
    explicit = SshConfig(session_timeout_secs=5)
    assert SshCollector(explicit, ctx).session_timeout_s == 5.0


@pytest.mark.timeout(30)
async def test_known_hosts_file(fake_devices: FakeDevices, tmp_path: Path) -> None:
    """With known_hosts_file set, an unknown host key is refused (auth) and a known one works."""
    known = tmp_path / "known_hosts"
    known.write_text("")
    col = _collector(fake_devices, known_hosts_file=str(known), commands=["version"])
    t = _target(fake_devices, "sw-new", "Huawei", "huawei")
    try:
        with pytest.raises(CollectError) as err:
            await col.poll(t)
        assert err.value.error_type is ErrorType.AUTH
        assert "host key not in known_hosts_file" in str(err.value)
        known.write_text(fake_devices.known_hosts_line())
        assert _one(await col.poll(t), "ssh_device_info")
    finally:
        await col.close()


@pytest.mark.timeout(40)
async def test_one_session_per_device_at_a_time(fake_devices: FakeDevices) -> None:
    """Two polls of one device (e.g. two instances, or a slow tick) never overlap sessions."""
    fake_devices.max_active.pop("h3c", None)
    col = _collector(fake_devices, workers=4)
    # a shared credential set with an enable secret must not send Comware into system-view
    t = _target(fake_devices, "h3c-core", "H3C", "h3c-key-enable")
    try:
        first, second = await asyncio.gather(col.poll(t), col.poll(t))
    finally:
        await col.close()
    assert _one(first, "ssh_device_info") and _one(second, "ssh_device_info")
    assert fake_devices.max_active["h3c"] == 1
    assert fake_devices.config_views == 0


@pytest.mark.timeout(30)
async def test_cancel_during_login_ends_the_thread(fake_devices: FakeDevices) -> None:
    """A switch that accepts the login but never shows a prompt: when the tick gives up, the
    login is cut (not left to netmiko's timeouts) and the worker thread ends."""
    col = _collector(fake_devices, session_timeout_secs=60.0)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3.0):
                await col.poll(_target(fake_devices, "mute-sw", "Huawei", "mute"))
        await _workers_done(col)
    finally:
        await col.close()
