"""config_backup against the fake SSH devices (a real SSH server on loopback, fakedevice.py)
serving real running configurations (data/SOURCES.md)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.core.errors import PartialCollect, StartupError
from agent.core.model import ErrorType, Event, EventState, Item, Metric
from agent.core.plugin import Target
from agent.framework.scheduler import PollerRunner, PollerTiming, PollOutcome
from agent.framework.telemetry import PluginStats
from agent.framework.triggers import Triggers
from agent.shared.device_events import config_saved_event
from collectors.ssh.backup.plugin import SPEC, ConfigBackup
from collectors.ssh.backup.repo import device_file
from collectors.ssh.config import SshConfig
from collectors.ssh.plugin import SshCollector
from exporters.alertmanager.plugin import AlertmanagerConfig, AlertmanagerExporter
from inventory.models import Campus, Inventory
from tests.agent.processors.alerts.helpers import FakeClock, processor
from tests.agent.processors.alerts.rig import Rig
from tests.collectors.ssh.backup.helpers import (
    all_objects,
    aruba,
    backup,
    commits,
    five,
    git,
    target,
)
from tests.collectors.ssh.fakedevice import FakeDevices
from tests.exporters.alertmanager.amserver import Alertmanager

DATA = Path(__file__).resolve().parents[1] / "data"


async def run_all(col: ConfigBackup, targets: Sequence[object]) -> list[Sequence[Item]]:
    out: list[Sequence[Item]] = []
    for res in await asyncio.gather(*(col.poll(t) for t in targets),  # type: ignore[arg-type]
                                    return_exceptions=True):
        if isinstance(res, BaseException):
            raise res
        out.append(res)
    return out


def metric(items: Sequence[Item]) -> Metric:
    found = [i for i in items if isinstance(i, Metric) and i.name == "config_backup"]
    assert len(found) == 1, items
    return found[0]


@pytest.mark.timeout(90)
async def test_first_run_commits_every_device_second_run_nothing(
        fake_devices: FakeDevices, tmp_path: Path) -> None:
    """Huawei, H3C, Ruijie, Cisco, ZTE and Aruba: one commit each, then nothing."""
    col = backup(fake_devices, tmp_path)
    await col.start()
    targets = [*five(fake_devices), aruba(fake_devices)]
    try:
        first = await run_all(col, targets)
        repo = tmp_path / "configs"
        for t, items in zip(targets, first, strict=True):
            assert commits(repo, device_file(t.id)) == [
                f"{t.id}: first backup ({metric(items).fields['lines']} lines)"], t.id
            assert metric(items).fields["changed"] == 1
            assert not [i for i in items if isinstance(i, Event)]  # a first backup is no change
        head = git(repo, "rev-parse", "HEAD")
        second = await run_all(col, targets)
        assert git(repo, "rev-parse", "HEAD") == head  # nothing committed
        assert all(metric(items).fields["changed"] == 0 for items in second)
    finally:
        await col.close()


@pytest.mark.timeout(120)
async def test_changed_vlan_commits_once_and_alerts(
        changing_devices: FakeDevices, alertmanager_backup: Alertmanager,
        tmp_path: Path) -> None:
    """Volatile lines move (timestamps, byte count, NTP drift) and nothing is committed; the
    name of VLAN 2 changes on the Cisco switch: one commit, one config_changed event naming
    `vlan 2`, and the alert read back from a real Alertmanager."""
    fake = changing_devices
    col = backup(fake, tmp_path / "data")
    await col.start()
    targets = five(fake)
    repo = tmp_path / "data" / "configs"
    cisco: dict[str, str] = fake.personalities["cisco"].commands  # type: ignore[assignment]
    hw: dict[str, str] = fake.personalities["huawei"].commands  # type: ignore[assignment]
    original = cisco["show running-config"]
    hw_original = hw["display current-configuration"]
    inv = Inventory.build(Campus("hn-demo", "demo"), (), (),
                          [t.device for t in targets if t.device is not None])
    run = f"backup-{time.time_ns()}"
    clock = FakeClock(now_ns=time.time_ns())
    rig = Rig(tmp_path, processor(inv, clock, None, rule_names=["config_changed"]),
              {"am": AlertmanagerExporter(AlertmanagerConfig(
                  url=alertmanager_backup.url, extra_labels={"run": run}))})
    try:
        await run_all(col, targets)
        head = git(repo, "rev-parse", "HEAD")
        cisco["show running-config"] = original.replace(
            "Current configuration : 20546 bytes", "Current configuration : 20551 bytes"
        ).replace("09:37:40 CEST Tue Aug 20 2024", "16:02:11 CET Tue Dec 1 2026"
                  ).replace("!\nversion 17.9", "!\nntp clock-period 17179869\nversion 17.9")
        hw["display current-configuration"] = hw["display current-configuration"].replace(
            "2025-08-09 17:31:05", "2026-12-01 08:00:00")
        await run_all(col, targets)
        assert git(repo, "rev-parse", "HEAD") == head  # volatile lines only: no commit

        cisco["show running-config"] = original.replace("vlan 2\n name two",
                                                        "vlan 2\n name teachers")
        results = await run_all(col, targets)
        new = git(repo, "log", "--format=%H %s", f"{head.strip()}..HEAD").splitlines()
        assert len(new) == 1 and new[0].split(" ", 1)[1] == "cisco-acc: +1 -1: vlan 2"
        body = git(repo, "log", "-1", "--format=%B")
        assert "device: cisco-acc" in body and "trigger: schedule" in body
        assert "time: " in body and "platform: cisco_ios" in body
        events = [i for items in results for i in items if isinstance(i, Event)]
        assert [(e.kind, e.device) for e in events] == [("config_changed", "cisco-acc")]
        ev = events[0]
        assert ev.labels["sections"] == "vlan 2"
        assert (ev.labels["lines_added"], ev.labels["lines_removed"]) == ("1", "1")
        cisco_items = results[3]
        assert metric(cisco_items).fields["changed"] == 1

        for t, items in zip(targets, results, strict=True):
            rig.submit(items, t)
        await rig.flush()
        await rig.deliver("am")
        got = alertmanager_backup.wait_alerts(lambda alerts: any(
            a["labels"].get("run") == run for a in alerts))
        ours = [a for a in got if a["labels"].get("run") == run]
        assert [a["labels"]["alertname"] for a in ours] == ["config_changed"]
        assert ours[0]["labels"]["device"] == "cisco-acc"
        summary = str(ours[0]["annotations"]["summary"])
        assert "cisco-acc: configuration changed (+1 -1: vlan 2)" in summary
    finally:
        cisco["show running-config"] = original
        hw["display current-configuration"] = hw_original
        await col.close()
        rig.close()


# secrets of the sample configurations, per data file
SECRETS: dict[str, list[str]] = {
    "huawei_display_current-configuration.raw": [
        "%^%#.BQ~E6-)b\"iwgiSM2mRK]UF9'd~jR1F>cJGR,A|R%^%#",
        "$1c$xnwfF&h&_T$_nBQVdI{BP,QVX\"c\"sK*r&.w#X+IJ8L^<8N&S+j4$",
        "%^%#8I>JW#[w4IM&#wE@VZ(8wnI]:1Ol>1*+p-<>8JgV]w.6!\"R*HBmd^/8CUtyHylYlQ,>MK6^2\\aXfU@HO%^%#",
        "%^%#]'k=~c]Q(!2,E:HH24W&By0H*o=<|AL6~)8@^<aY]k\\R%TL&cOZE<]2OT-qCDpDL-*L;c7m\\nBR;ph{:%^%#",
        "$1c$j[e#6^S|mP$\\#c3#9CsF@>GgnA-6=-0BpnI7jMSR,AO>L7)E:QU$",
        "$1c$(ccH;3Rs]0$OZ.18Fq|1K@7Z@4:)*-X2_zKNtVR-ZNO]BNH%0$H$",
    ],
    "h3c_display_current-configuration.raw": [
        "$h$6$0pCOOSzAnWNbItO9$KfV0V1Jo1PVFMrG9lelj81GGw4IPX5u2kF6CmRpgOng3Ab1MS7gb84qKmHksuKSLD"
        "Ir/0/X1Rbq+otiYniGwTg==",
        "$h$6$/qN0r/IMnFFHtHRP$osdT3d7AmyPPa/KC0sdu6DCNwSuiNhBzoSGuf+YZxA1yJUOFOTxEH477c5OyA6sm4"
        "ZqvOzBLykuqBkT6xIxBlA==",
    ],
    "ruijie_show_running-config.raw": [
        "$10$1a7$3rsQYUPXJ8Szfg==$", "$1c$7eyy23uMQk$0`4,rb0jf0#(&4|~<:l~,,d#.>l0z.td(nfxv2v!$",
        "$10$1b9$4xHCraQE1Co/ow==$", "$10$04b$1cqMYcIJBDFnqA==$",
    ],
    "cisco_show_running-config.raw": [
        "$9$xxxSECRET_ENABLExxxxxxxxxxxxxx", "$9$xxxxxxxxxxSECRET_OXIDIZEDxxxxxxxxx",
        "AAAAAAAAAABBBBBBBBBB", "community public",
    ],
    "aruba_show_running-config.raw": [
        "AAAAAAAAAABBBBBBBBBB", "root ********************",
    ],
    "zte_show_running-config.raw": [
        "*21*Cd9FBNz0tjJfcP3wUqcjfVKnI31SpyN9UqcjffPT8eVs3oJf4twUSEnvYlmNAbXJqa3a2xEbSY7NWT9jfjIKt"
        "ZzxfbErkSS6HjSRFdwzmXP9lRWsquH9TSPAQ9TUgprMGTJ7cew9AdE+v57z",
        "*21*Cd9FBNz0tjJfcP3wGK1oIRitaCEYrWghGK1oIWgEhNYkFvy7mdWXvoUGtPahwEXyqkRJ2W4fEbAyTxUOOjfd"
        "yIFSQWzMVKencKo3w3j6h5q9GSxPdPxzBrZbfFf02OCFdTP+u5OQpzPFn82l",
        "*31*RNZdUtVWwH0DwdHkGmYSMhpmEjIaZhIyGmYSMqvXYv2qBl3JaaQ4tKNvsOvR1MLTx4fAfLuBZnnwSlKBT1p3TB"
        "OUoqobCClcVUblDQ==",
    ],
}


@pytest.mark.timeout(120)
async def test_no_sample_secret_in_the_git_object_store(
        changing_devices: FakeDevices, tmp_path: Path) -> None:
    """Back up every device twice (the second time the Cisco enable secret changed: its masked
    token changes, so the change is committed), pack the repository, then grep every object —
    loose and packed, decompressed — and every file under the data dir for each secret."""
    new_secret = "$9$NewEnableSecretAfterTheAudit"
    for name, secrets in SECRETS.items():
        raw = (DATA / name).read_text()
        for s in secrets:
            assert s in raw, f"{name}: the test's secret is not in the sample: {s!r}"
    cisco: dict[str, str] = changing_devices.personalities["cisco"].commands  # type: ignore[assignment]
    original = cisco["show running-config"]
    col = backup(changing_devices, tmp_path)
    await col.start()
    targets = [*five(changing_devices), aruba(changing_devices)]
    repo = tmp_path / "configs"
    try:
        await run_all(col, targets)
        cisco["show running-config"] = original.replace(
            "enable secret 9 $9$xxxSECRET_ENABLExxxxxxxxxxxxxx", f"enable secret 9 {new_secret}")
        await run_all(col, targets)
    finally:
        cisco["show running-config"] = original
        await col.close()
    assert commits(repo, device_file("cisco-acc"))[0].startswith("cisco-acc: +1 -1: enable secret")
    secrets_now = {**SECRETS, "changed": [new_secret]}
    git(repo, "gc", "-q", "--aggressive")
    assert list((repo / ".git" / "objects" / "pack").glob("*.pack"))
    objects = all_objects(repo)
    assert b"enable secret 9 <secret:" in objects  # the store holds the masked configurations
    files = await asyncio.to_thread(_data_files, tmp_path)
    for name, secrets in secrets_now.items():
        for s in secrets:
            assert s.encode() not in objects, f"{name}: secret in the object store: {s[:12]}…"
            assert s.encode() not in files, f"{name}: secret in a file: {s[:12]}…"


@pytest.mark.timeout(90)
async def test_hang_and_garbage_while_the_others_are_backed_up(
        fake_devices: FakeDevices, tmp_path: Path) -> None:
    """Through the real PollerRunner: a switch that stops part-way through its configuration
    gets `timeout`, one that answers garbage gets `parse`; the five healthy devices of the same
    tick are committed within the tick's timeout, and nothing of the broken ones is stored."""
    col = backup(fake_devices, tmp_path, session_timeout_secs=8.0)
    await col.start()
    good = five(fake_devices)
    targets = [*good, target(fake_devices, "hung-sw", "Huawei", "hang"),
               target(fake_devices, "junk-sw", "Huawei", "garbage")]
    outcomes: dict[str, PollOutcome] = {}
    items: dict[str, Sequence[Item]] = {}

    def sink(its: Sequence[Item], t: Target | None, outcome: PollOutcome | None) -> None:
        assert t is not None and outcome is not None
        outcomes[t.id], items[t.id] = outcome, its

    runner = PollerRunner(
        "config_backup/t", col, targets, PollerTiming(interval_s=3600, timeout_s=12.0,
                                                      jitter_s=0),
        asyncio.Semaphore(16), asyncio.Semaphore(16), sink,
        PluginStats("config_backup", "config_backup/t"))
    try:
        await runner.run_once()
    finally:
        await col.close()
    assert set(outcomes) == {t.id for t in targets}
    repo = tmp_path / "configs"
    for t in good:
        assert outcomes[t.id].ok, outcomes[t.id]
        assert len(commits(repo, device_file(t.id))) == 1
    assert outcomes["hung-sw"].error is ErrorType.TIMEOUT
    assert "display current-configuration" in outcomes["hung-sw"].detail
    assert outcomes["junk-sw"].error is ErrorType.PARSE
    assert "junk-sw: display current-configuration:" in outcomes["junk-sw"].detail
    for broken in ("hung-sw", "junk-sw"):
        assert not (repo / device_file(broken)).exists()
        assert metric(items[broken]).fields == {"failures": 1}
    assert not list((tmp_path / "configs.incoming").iterdir())  # half-written files removed


@pytest.mark.timeout(60)
async def test_failed_runs_raise_then_resolve(fake_devices: FakeDevices,
                                               tmp_path: Path) -> None:
    col = backup(fake_devices, tmp_path, failed_after=2)
    await col.start()
    bad = target(fake_devices, "hw-core", "Huawei", "wrong")
    good = target(fake_devices, "hw-core", "Huawei", "huawei")
    events: list[Event] = []
    try:
        for _ in range(3):
            with pytest.raises(PartialCollect) as err:
                await col.poll(bad)
            assert err.value.error_type is ErrorType.AUTH
            events += [i for i in err.value.items if isinstance(i, Event)]
        events += [i for i in await col.poll(good) if isinstance(i, Event)]
    finally:
        await col.close()
    assert [(e.kind, e.state) for e in events] == [
        ("config_backup_failed", EventState.RAISED), ("config_backup_failed", EventState.RESOLVED)]
    assert "failed 2 runs in a row (auth)" in events[0].summary


@pytest.mark.timeout(180)
async def test_ten_megabyte_configuration(changing_devices: FakeDevices,
                                          tmp_path: Path) -> None:
    """A 10 MB configuration arrives over SSH, streamed to disk, masked and committed."""
    col = backup(changing_devices, tmp_path, session_timeout_secs=120.0)
    await col.start()
    try:
        items = await col.poll(target(changing_devices, "big-core", "Huawei", "huge"))
    finally:
        await col.close()
    m = metric(items)
    size = m.fields["size_bytes"]
    assert isinstance(size, int) and size > 10 * 2**20 and m.fields["secrets_masked"] == 1
    stored = tmp_path / "configs" / device_file("big-core")
    assert stored.stat().st_size == size
    assert b"$1a$HugeSecret$" not in all_objects(tmp_path / "configs")


def _data_files(root: Path) -> bytes:
    """Every file under the data dir but the git store (checked object by object above)."""
    return b"".join(p.read_bytes() for p in root.rglob("*")
                    if p.is_file() and ".git" not in p.parts)


@pytest.mark.timeout(60)
async def test_config_saved_event_backs_the_device_up_now(fake_devices: FakeDevices,
                                                          tmp_path: Path) -> None:
    """A burst of `device_config_saved` events (what the syslog and trap listeners emit)
    gives one backup of that device, outside the ticks, its commit naming the trigger."""
    col = backup(fake_devices, tmp_path, trigger_debounce_secs=0.2)
    await col.start()
    targets = five(fake_devices)
    done: list[str] = []

    def sink(its: Sequence[Item], t: Target | None, outcome: PollOutcome | None) -> None:
        assert t is not None and outcome is not None and outcome.ok, outcome
        done.append(t.id)

    runner = PollerRunner(
        "config_backup/t", col, targets, PollerTiming(interval_s=3600, timeout_s=30.0,
                                                      jitter_s=0),
        asyncio.Semaphore(4), asyncio.Semaphore(4), sink,
        PluginStats("config_backup", "config_backup/t"))
    triggers = Triggers()
    triggers.add(SPEC, col, runner)
    try:
        for via in ("syslog", "snmp_trap", "syslog"):
            triggers.observe([config_saved_event("10.0.0.7", "h3c-agg", "configuration saved",
                                                 via, "10.0.0.7", time.time_ns())])
        for _ in range(300):  # bounded wait for the debounced backup
            if done:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a second (wrong) backup would show up now
    finally:
        await runner.cancel_inflight()
        await col.close()
    assert done == ["h3c-agg"]
    repo = tmp_path / "configs"
    assert git(repo, "log", "-1", "--format=%B", "--", device_file("h3c-agg")).count(
        "trigger: device_config_saved") == 1


@pytest.mark.timeout(60)
async def test_one_session_per_device_across_ssh_and_config_backup(
        fake_devices: FakeDevices, tmp_path: Path) -> None:
    """The ssh collector and config_backup polling one device at once take turns: the device
    never sees two sessions (the per-device lock is the folder's, not an instance's)."""
    fake_devices.max_active.pop("zte", None)
    col = backup(fake_devices, tmp_path)
    ssh = SshCollector(SshConfig(session_timeout_secs=30.0, commands=["version"]), col.ctx)
    t = target(fake_devices, "zte-olt", "中兴", "zte")
    await col.start()
    try:
        facts, configs, facts2 = await asyncio.gather(ssh.poll(t), col.poll(t), ssh.poll(t))
    finally:
        await ssh.close()
        await col.close()
    assert [i.name for i in facts if isinstance(i, Metric)][:1] == ["ssh_device_info"]
    assert metric(configs).fields["lines"] == 178 and facts2
    assert fake_devices.max_active["zte"] == 1


@pytest.mark.timeout(60)
async def test_commits_are_pushed_to_the_remote(fake_devices: FakeDevices,
                                                tmp_path: Path) -> None:
    """`remote:` gets every commit (here a bare repository on disk standing for the centre's
    git server; no network)."""
    centre = tmp_path / "centre.git"
    await asyncio.to_thread(subprocess.run,
                            ["git", "init", "-q", "--bare", "-b", "main", str(centre)],
                            check=True, timeout=30)
    col = backup(fake_devices, tmp_path / "data", remote=str(centre))
    await col.start()
    try:
        await col.poll(target(fake_devices, "rj-core", "锐捷", "ruijie"))
    finally:
        await col.close()
    assert commits(centre) == ["rj-core: first backup (89 lines)", "configuration repository"]
    assert b"<secret:" in all_objects(centre) and b"$10$1a7$" not in all_objects(centre)


async def test_unusable_data_dir_is_a_clear_error_not_a_crash(fake_devices: FakeDevices,
                                                              tmp_path: Path) -> None:
    """The data dir is a file (a broken mount, a typo): start says so (the agent goes on with
    its other plugins) and each poll fails as `internal` naming the place."""
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    col = backup(fake_devices, blocked)
    with pytest.raises(StartupError, match="config_backup"):
        await col.start()
    try:
        with pytest.raises(PartialCollect) as err:
            await col.poll(target(fake_devices, "hw-core", "Huawei", "huawei"))
    finally:
        await col.close()
    assert err.value.error_type is ErrorType.INTERNAL
    assert "masking key" in str(err.value) and "not-a-dir" in str(err.value)


@pytest.mark.timeout(60)
async def test_pager_left_on_is_a_protocol_error(fake_devices: FakeDevices,
                                                 tmp_path: Path) -> None:
    """An old VRP account that may not turn paging off: the first page arrives, then
    '---- More ----'; that is said (`protocol`), nothing half is stored."""
    col = backup(fake_devices, tmp_path, session_timeout_secs=15.0)
    await col.start()
    try:
        with pytest.raises(PartialCollect) as err:
            await col.poll(target(fake_devices, "old-vrp", "Huawei", "nopager"))
    finally:
        await col.close()
    assert err.value.error_type is ErrorType.PROTOCOL
    assert "old-vrp: display current-configuration: output is paged" in str(err.value)
    assert not (tmp_path / "configs" / device_file("old-vrp")).exists()
