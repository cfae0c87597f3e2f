"""The coap poller against aiocoap's own server (tests/collectors/coap/server.py, a separate
process on loopback): GET and Observe; JSON, CBOR, SenML (JSON and CBOR), text; a bad payload
counted; the device stopped goes down within two polls and comes back."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.core.errors import CollectError, PartialCollect
from agent.core.model import ErrorType, Event, Item, Metric
from agent.core.plugin import BuildContext, Target
from collectors.coap.plugin import CoapConfig, CoapPoller, build
from inventory.models import Inventory
from tests.collectors.coap.server import SERVED
from tests.servers import ServerProcess, free_port

REPO = Path(__file__).resolve().parents[3]


class _Ready:
    """The server prints `ready` once bound; its log is appended to across restarts."""

    def __init__(self, path: Path) -> None:
        self.path, self.starts = path, 0

    def __call__(self, limit_s: float = 15.0) -> None:
        self.starts += 1
        for _ in range(int(limit_s / 0.05)):
            if self.path.exists() and self.path.read_text().count("ready") >= self.starts:
                return
            time.sleep(0.05)
        raise RuntimeError("the CoAP server did not start")


def start_server(tmp: Path, port: int | None = None) -> tuple[ServerProcess, int]:
    port = port or free_port(kind=socket.SOCK_DGRAM)
    log = tmp / f"coap-{port}.log"
    log.unlink(missing_ok=True)
    srv = ServerProcess([sys.executable, "-m", "tests.collectors.coap.server", "--port",
                         str(port)], _Ready(log), log, cwd=REPO)
    return srv.start(), port


@pytest.fixture(scope="module")
def coap_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    srv, port = start_server(tmp_path_factory.mktemp("coap"))
    yield port
    srv.stop()


def poller(tmp: Path, resources: list[dict[str, object]]) -> CoapPoller:
    ctx = BuildContext(instance="coap/test", inventory=Inventory.empty("t"), credentials={},
                       data_dir=tmp, config_dir=tmp, timeout_s=1.0,
                       logger=logging.getLogger("test.coap"))
    return build(CoapConfig.model_validate({"resources": resources}), ctx)


def target(port: int) -> Target:
    return Target(id=f"coap-{port}", ipv4="127.0.0.1", port=port,
                  labels={"iot_class": "env_sensor"})


async def poll(p: CoapPoller, t: Target) -> tuple[list[Item], ErrorType | None]:
    try:
        return list(await p.poll(t)), None
    except PartialCollect as exc:
        return list(exc.items), exc.error_type
    except CollectError as exc:
        return [], exc.error_type


def readings(items: list[Item]) -> dict[str, dict[str, object]]:
    return {i.tags["resource"]: dict(i.fields) for i in items
            if isinstance(i, Metric) and i.name == "coap_reading"}


@pytest.mark.timeout(60)
async def test_get_every_format(coap_device: int, tmp_path: Path) -> None:
    p = poller(tmp_path, [{"path": "/sensors/air"}, {"path": "/senml"},
                          {"path": "/senml-cbor"}, {"path": "/text"}, {"path": "/sensors/env"},
                          {"path": "/bad"}])
    try:
        items, err = await poll(p, target(coap_device))
    finally:
        await p.close()
    assert err is None
    got = readings(items)
    assert got["/sensors/air"] == SERVED["/sensors/air"]
    senml = {"urn_dev_ow_10e2073a01080063_voltage": 120.1,
             "urn_dev_ow_10e2073a01080063_current": 1.2}
    assert got["/senml"] == senml and got["/senml-cbor"] == senml
    assert got["/text"] == {"value": 23.25}
    env = got["/sensors/env"]
    assert (env["temperature"], env["humidity"], env["door_open"]) == (22.5, 41, 0)
    assert "/bad" not in got
    res = {i.tags["resource"]: i for i in items
           if isinstance(i, Metric) and i.name == "coap_resource"}
    assert res["/bad"].fields["bad_payloads_total"] == 1  # counted, the rest flows
    assert res["/sensors/air"].tags["code"].startswith("2.05")
    live = next(i for i in items if isinstance(i, Metric) and i.name == "iot_device")
    assert live.tags == {"iot_class": "env_sensor", "protocol": "coap"}
    assert live.fields["up"] == 1


@pytest.mark.timeout(60)
async def test_observe_keeps_the_latest_notification(coap_device: int, tmp_path: Path) -> None:
    p = poller(tmp_path, [{"path": "/sensors/env", "observe": True}])
    t = target(coap_device)
    try:
        first, err = await poll(p, t)
        assert err is None
        c0 = readings(first)["/sensors/env"]["count"]
        await asyncio.sleep(1.0)  # the server notifies every 0.2 s
        later, err = await poll(p, t)
        assert err is None
        res = next(i for i in later if isinstance(i, Metric) and i.name == "coap_resource")
        notes = res.fields["notifications_total"]
        assert isinstance(notes, int) and notes >= 3
        c1 = readings(later)["/sensors/env"]["count"]
        assert isinstance(c0, int) and isinstance(c1, int) and c1 >= c0 + 2
    finally:
        await p.close()


@pytest.mark.timeout(60)
async def test_stopped_device_goes_down_within_two_polls_and_comes_back(tmp_path: Path) -> None:
    srv, port = start_server(tmp_path)
    p = poller(tmp_path, [{"path": "/sensors/air"}, {"path": "/sensors/env", "observe": True}])
    t = target(port)
    try:
        _, err = await poll(p, t)
        assert err is None
        srv.stop()
        first, err1 = await poll(p, t)
        assert err1 in (ErrorType.TIMEOUT, ErrorType.UNREACHABLE)
        assert not [i for i in first if isinstance(i, Event)]
        second, _ = await poll(p, t)
        downs = [i for i in second if isinstance(i, Event)]
        assert [e.kind for e in downs] == ["device_down"]
        assert downs[0].labels == {"iot_class": "env_sensor", "reason": err1.value}
        srv.start()
        back, err3 = await poll(p, t)
        assert err3 is None
        assert [e.kind for e in back if isinstance(e, Event)] == ["device_up"]
        assert readings(back)["/sensors/air"] == SERVED["/sensors/air"]
    finally:
        await p.close()
        srv.stop()
