"""Counter → rate with crafted sequences: 32/64-bit wraps, resets, reboots, discontinuities."""

from __future__ import annotations

import pytest

from collectors.snmp.rates import RateTracker, Sample, counter_delta, counter_rate

C32 = 1 << 32
C64 = 1 << 64


def test_plain_increase() -> None:
    assert counter_rate(Sample(1000, 0.0), Sample(61000, 60.0), 32) == 1000.0


def test_counter32_wrap_gives_the_true_increase() -> None:
    prev, cur = C32 - 1_000, 4_000  # wrapped past 2^32
    assert counter_delta(prev, cur, 32) == 5_000
    assert counter_rate(Sample(prev, 0.0), Sample(cur, 10.0), 32) == 500.0


def test_counter64_wrap_gives_the_true_increase() -> None:
    prev, cur = C64 - 10, 90
    assert counter_delta(prev, cur, 64) == 100
    assert counter_rate(Sample(prev, 0.0), Sample(cur, 1.0), 64) == 100.0


@pytest.mark.parametrize("bits", [32, 64])
def test_a_reset_is_not_read_as_a_wrap(bits: int) -> None:
    # Back from near the top of half the range to ~0: the "wrap" would be implausibly large.
    prev = (1 << (bits - 1)) - 5
    assert counter_delta(prev, 3, bits) is None
    assert counter_rate(Sample(prev, 0.0), Sample(3, 10.0), bits) is None


def test_no_rate_without_baseline_or_time() -> None:
    assert counter_rate(None, Sample(5, 1.0), 64) is None
    assert counter_rate(Sample(5, 1.0), Sample(9, 1.0), 64) is None


def test_tracker_sequence_with_wrap_then_reboot_emits_no_spike() -> None:
    t = RateTracker()
    rates = []
    # (uptime_s, counter): steady 1000/s, a 32-bit wrap, then a reboot (uptime back, counter low)
    seq = [(100.0, C32 - 25_000), (110.0, C32 - 15_000), (120.0, C32 - 5_000),
           (130.0, (C32 - 5_000 + 10_000) % C32), (5.0, 200), (15.0, 10_200)]
    for i, (uptime, value) in enumerate(seq):
        t.begin(uptime)
        rates.append(t.rate(("if", 1, "in_octets"), value, 32, t_s=10.0 * i))
    assert rates[0] is None
    assert rates[1] == 1000.0
    assert rates[2] == 1000.0
    assert rates[3] == 1000.0  # across the wrap
    assert rates[4] is None  # reboot: baseline reset, not (200 - huge)/10
    assert rates[5] == 1000.0


def test_reboot_detection_drops_every_baseline() -> None:
    t = RateTracker()
    t.begin(1000.0)
    t.rate("a", 10, 64, 0.0)
    t.rate("b", 10, 64, 0.0)
    assert t.begin(10.0) is True
    assert t.rate("a", 5_000_000, 64, 60.0) is None
    assert t.rate("b", 20, 64, 60.0) is None
    assert t.begin(70.0) is False


def test_discontinuity_change_resets_the_series() -> None:
    t = RateTracker()
    assert t.rate("x", 100, 64, 0.0, discontinuity=0) is None
    assert t.rate("x", 200, 64, 10.0, discontinuity=0) == 10.0
    # Counter re-created (module swapped): discontinuity time moves, values restart low.
    assert t.rate("x", 50, 64, 20.0, discontinuity=4242) is None
    assert t.rate("x", 150, 64, 30.0, discontinuity=4242) == 10.0


def test_series_not_seen_in_a_poll_are_forgotten() -> None:
    t = RateTracker()
    t.begin(10.0)
    t.rate("gone", 1, 64, 0.0)
    t.rate("kept", 1, 64, 0.0)
    t.end()
    t.begin(20.0)
    assert t.rate("kept", 11, 64, 10.0) == 1.0
    t.end()
    t.begin(30.0)
    assert t.rate("gone", 21, 64, 20.0) is None  # its baseline went with the interface


def test_a_series_read_twice_in_a_poll_does_not_keep_a_removed_one() -> None:
    """end() counts distinct series per poll (no set of keys is kept): a key read twice must
    count once, or a removed interface's baseline would be kept forever."""
    t = RateTracker()
    t.begin(10.0)
    t.rate(("if", 1, "in_octets"), 1, 64, 0.0)
    t.rate(("if", 2, "in_octets"), 1, 64, 0.0)
    t.end()
    t.begin(20.0)
    assert t.rate(("if", 1, "in_octets"), 11, 64, 10.0) == 1.0
    assert t.rate(("if", 1, "in_octets"), 21, 64, 20.0) == 1.0  # the same series again
    t.end()  # ("if", 2) was not read: 2 entries, 1 distinct series seen
    t.begin(30.0)
    assert t.rate(("if", 2, "in_octets"), 21, 64, 30.0) is None  # forgotten, no baseline
    assert t.rate(("if", 1, "in_octets"), 31, 64, 30.0) == 1.0


def test_raw_counters_stay_integers_through_the_interface_metric() -> None:
    from collectors.snmp.identify import Facts, identify
    from collectors.snmp.metrics import Clock, to_metrics
    from collectors.snmp.records import (
        Counter,
        DeviceData,
        Interface,
        SystemInfo,
    )
    from inventory.models import Inventory

    def data(value: int, uptime: float) -> DeviceData:
        ifc = Interface(1, "ge-0/0/1", "uplink", 1, 1, 1000,
                        {"in_octets": Counter(value, 64), "out_octets": Counter(value, 64)},
                        None)
        return DeviceData(SystemInfo("x", None, uptime, "sw", ""), identify(Facts(None, "")),
                          interfaces={1: ifc}, interface_indexes={1})

    tracker = RateTracker()
    big = C64 - 1_250_000_000  # near the top: floats would lose it
    to_metrics(data(big, 100.0), tracker, Clock(1, 0.0), Inventory.empty(), "sw")
    out = to_metrics(data((big + 1_250_000_000 + 125_000_000) % C64, 110.0), tracker,
                     Clock(2, 10.0), Inventory.empty(), "sw")
    (ifm,) = [m for m in out if m.name == "snmp_interface"]
    assert isinstance(ifm.fields["in_octets"], int)
    assert ifm.fields["in_octets"] == 125_000_000
    assert ifm.fields["in_bps"] == pytest.approx(1.1e9)  # 1.375e9 B in 10 s → 1.1 Gbit/s
    assert ifm.fields["in_utilization_percent"] == pytest.approx(110.0)


def _poll(t: RateTracker, uptime: float, values: dict[tuple[str, int, str], int],
          t_s: float) -> dict[tuple[str, int, str], float | None]:
    t.begin(uptime)
    out = {k: t.rate(k, v, 64, t_s) for k, v in values.items()}
    t.end()
    return out


def test_devices_with_the_same_counters_share_one_key_map_and_keep_their_own_values() -> None:
    keys = [("if", i, n) for i in range(1, 49) for n in ("in_octets", "out_octets")]
    a, b = RateTracker(), RateTracker()
    _poll(a, 10.0, dict.fromkeys(keys, 0), 0.0)
    _poll(b, 10.0, dict.fromkeys(keys, 0), 0.0)
    assert a._slot is b._slot  # one map for both (the memory the arrays save)
    ra = _poll(a, 20.0, dict.fromkeys(keys, 600), 60.0)
    rb = _poll(b, 20.0, dict.fromkeys(keys, 1200), 60.0)
    assert set(ra.values()) == {10.0} and set(rb.values()) == {20.0}
    # a key only b has: b copies the map, a's stays as it was
    rb = _poll(b, 30.0, {**dict.fromkeys(keys, 2400), ("if", 49, "in_octets"): 7}, 120.0)
    assert a._slot is not b._slot and ("if", 49, "in_octets") not in a._slot
    assert rb[("if", 49, "in_octets")] is None and rb[keys[0]] == 20.0
    assert set(_poll(a, 30.0, dict.fromkeys(keys, 1200), 120.0).values()) == {10.0}


def test_interfaces_that_come_and_go_do_not_grow_a_device_without_bound() -> None:
    """Virtual interfaces with ever-new ifIndexes: the forgotten slots are compacted away."""
    t = RateTracker()
    for n in range(500):
        keys = {("if", 1, "in_octets"): n * 60, ("if", 1000 + n, "in_octets"): n}
        rates = _poll(t, 10.0 + n, keys, 60.0 * n)
        if n:
            assert rates[("if", 1, "in_octets")] == 1.0  # the steady port keeps its rate
        assert rates[("if", 1000 + n, "in_octets")] is None  # new each poll: no baseline
    assert len(t._slot) <= 2 * 2 + 64 and len(t._value) == len(t._slot)


@pytest.mark.parametrize("bad", [-1, 1 << 64, 1 << 80])
def test_a_value_no_counter_can_hold_leaves_no_baseline(bad: int) -> None:
    t = RateTracker()
    t.begin(10.0)
    assert t.rate("x", 100, 64, 0.0) is None
    t.end()
    t.begin(20.0)
    assert t.rate("x", bad, 64, 10.0) is None
    t.end()
    t.begin(30.0)
    assert t.rate("x", 300, 64, 20.0) is None  # no baseline from the bad value
    assert t.rate("x", 400, 64, 30.0) == 10.0
    t.end()


def test_a_series_spoiled_in_a_poll_does_not_keep_an_unseen_one() -> None:
    t = RateTracker()
    _poll(t, 10.0, {("if", 1, "in_octets"): 1, ("if", 2, "in_octets"): 1}, 0.0)
    t.begin(20.0)
    assert t.rate(("if", 1, "in_octets"), 11, 64, 10.0) == 1.0
    assert t.rate(("if", 1, "in_octets"), -5, 64, 10.0) is None  # garbage: baseline gone
    t.end()  # ("if", 2) was not read in this poll: forgotten
    t.begin(30.0)
    assert t.rate(("if", 2, "in_octets"), 21, 64, 30.0) is None


@pytest.mark.parametrize("disc", [-1, 0, 1 << 63, 1 << 70])
def test_any_discontinuity_a_device_sends_is_compared_not_confused_with_none(disc: int) -> None:
    """-1 is not "no discontinuity"; one past the array's range still gives rates."""
    t = RateTracker()
    assert t.rate("x", 100, 64, 0.0, discontinuity=disc) is None
    assert t.rate("x", 200, 64, 10.0, discontinuity=disc) == 10.0
    assert t.rate("x", 300, 64, 20.0, discontinuity=None) is None  # a change of epoch
    assert t.rate("x", 400, 64, 30.0, discontinuity=None) == 10.0
    assert t.rate("x", 500, 64, 40.0, discontinuity=disc) is None
