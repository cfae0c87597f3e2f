"""TLS with a test CA and a client certificate (plus username/password) against mosquitto."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.mqtt.classes import IotClass
from collectors.mqtt.client import TlsFiles
from config.credentials import UserPasswordCredential
from tests.collectors.mqtt.certs import TestPki, make_pki
from tests.collectors.mqtt.helpers import (
    Recorder,
    inventory,
    iot_device,
    js,
    make_listener,
    publisher,
    running,
    targets_of,
    topic,
    unique,
    wait_connected,
    wait_for,
)
from tests.servers import Mosquitto, free_port, require_binary, start_mosquitto


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, TestPki]]:
    # mosquitto drops root for its own user before it reads the password file: the files
    # live in a world-readable directory, not under pytest's private tmp tree
    shared = Path(tempfile.mkdtemp(prefix="campusmon-mqtt-pki-"))
    shared.chmod(0o755)
    pki = make_pki(shared / "pki")
    (shared / "pki").chmod(0o755)
    passwd = shared / "pki" / "passwd"
    subprocess.run([require_binary("mosquitto_passwd"), "-b", "-c", str(passwd), "campusmon",
                    "s3cret-pw"], check=True, capture_output=True)
    passwd.chmod(0o644)
    port = free_port()
    broker = start_mosquitto(tmp_path / "broker", port=port, extra_conf=(
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        f"require_certificate true\ntls_version tlsv1.2\n"
        f"allow_anonymous false\npassword_file {passwd}\n"))
    yield broker, pki
    broker.stop()
    shutil.rmtree(shared, ignore_errors=True)


@pytest.mark.timeout(60)
async def test_tls_client_certificate_and_password(
        tls_broker: tuple[Mosquitto, TestPki], tmp_path: Path) -> None:
    broker, pki = tls_broker
    g5 = iot_device(unique("cpe"), IotClass.CPE_5G, heartbeat_secs=60)
    inv = inventory([g5])
    rec = Recorder(targets_of(inv))
    cred = UserPasswordCredential(name="broker", type="user_password", username="campusmon",
                                  password="s3cret-pw")
    lst = make_listener({
        "host": "127.0.0.1", "port": broker.port, "credential": "broker",
        "tls": {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
                "key_file": str(pki.client_key)},
    }, inv, tmp_path, credentials={"broker": cred})
    async with running(lst, rec):
        await wait_connected(lst)
        tls = TlsFiles(str(pki.ca), str(pki.client_cert), str(pki.client_key))
        pub = publisher("127.0.0.1", broker.port, tls=tls, username="campusmon",
                        password="s3cret-pw")
        try:
            pub.publish(topic(g5, "telemetry"), js(
                {"rsrp_dbm": -95, "rsrq_db": -11, "sinr_db": 9, "band": "n41",
                 "dl_mbps": 180.5, "ul_mbps": 30.0}), 1)
            assert await wait_for(lambda: bool(rec.metrics("cellular_5g", g5.id)), 10)
        finally:
            pub.stop()
    m = rec.metrics("cellular_5g", g5.id)[0]
    assert m.tags["band"] == "n41" and m.fields["dl_mbps"] == 180.5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", ["no_client_cert", "wrong_ca", "bad_password"])
async def test_tls_refusals_are_reported(tls_broker: tuple[Mosquitto, TestPki], tmp_path: Path,
                                        case: str) -> None:
    broker, pki = tls_broker
    inv = inventory([iot_device(unique("env"), IotClass.ENV_SENSOR)])
    tls = {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
           "key_file": str(pki.client_key)}
    password = "s3cret-pw"
    if case == "no_client_cert":
        tls = {"ca_file": str(pki.ca)}
    elif case == "wrong_ca":
        tls["ca_file"] = str(pki.other_ca)
    else:
        password = "wrong"
    cred = UserPasswordCredential(name="broker", type="user_password", username="campusmon",
                                  password=password)
    rec = Recorder(targets_of(inv))
    lst = make_listener({"host": "127.0.0.1", "port": broker.port, "credential": "broker",
                         "tls": tls, "liveness_tick_secs": 0.2}, inv, tmp_path,
                        credentials={"broker": cred})
    async with running(lst, rec) as task:
        assert await wait_for(lambda: bool(rec.errors), 10)
        assert lst.subscriber is not None and not lst.subscriber.stats.connected
        assert not task.done()  # it keeps retrying, and says why
        expected = {"auth"} if case == "bad_password" else {"tls", "unreachable"}
        assert expected & set(rec.errors), rec.errors
