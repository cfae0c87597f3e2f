"""The gateways listener on a broker with TLS, a client certificate and a password (as a campus
ChirpStack broker often is): a ChirpStack uplink still arrives; a wrong CA never connects."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from config.credentials import UserPasswordCredential
from tests.collectors.iot_gateways import samples
from tests.collectors.iot_gateways.helpers import fleet, listening, until
from tests.collectors.mqtt import certs  # the module: a TestPki name here would be collected
from tests.servers import Mosquitto, free_port, require_binary, start_mosquitto

CRED = UserPasswordCredential.model_validate(
    {"name": "broker", "type": "user_password", "username": "campusmon",
     "password": "s3cret-pw"})


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, certs.TestPki]]:
    # mosquitto drops root before it reads the password file: a world-readable directory
    shared = Path(tempfile.mkdtemp(prefix="campusmon-gw-pki-"))
    shared.chmod(0o755)
    pki = certs.make_pki(shared / "pki")
    (shared / "pki").chmod(0o755)
    passwd = shared / "pki" / "passwd"
    subprocess.run([require_binary("mosquitto_passwd"), "-b", "-c", str(passwd), "campusmon",
                    "s3cret-pw"], check=True, capture_output=True)
    passwd.chmod(0o644)
    broker = start_mosquitto(tmp_path / "broker", port=free_port(), extra_conf=(
        f"cafile {pki.ca}\ncertfile {pki.server_cert}\nkeyfile {pki.server_key}\n"
        f"require_certificate true\ntls_version tlsv1.2\n"
        f"allow_anonymous false\npassword_file {passwd}\n"))
    yield broker, pki
    broker.stop()
    shutil.rmtree(shared, ignore_errors=True)


def _publisher(broker: Mosquitto, pki: certs.TestPki) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
    c.tls_set(ca_certs=str(pki.ca), certfile=str(pki.client_cert), keyfile=str(pki.client_key))
    c.username_pw_set("campusmon", "s3cret-pw")
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


@pytest.mark.timeout(60)
async def test_chirpstack_over_tls_with_client_certificate_and_password(
        tls_broker: tuple[Mosquitto, certs.TestPki], tmp_path: Path) -> None:
    broker, pki = tls_broker
    tls = {"ca_file": str(pki.ca), "cert_file": str(pki.client_cert),
           "key_file": str(pki.client_key)}
    pub = _publisher(broker, pki)
    try:
        async with listening(broker.host, broker.port, fleet("-tls"), tmp_path,
                             credentials={"broker": CRED}, credential="broker",
                             tls=tls) as (lst, rec):
            assert lst.tls is not None
            pub.publish(samples.chirpstack_topic("up"), samples.chirpstack_up(),
                        qos=1).wait_for_publish(5)
            up = (await until(lambda: rec.metrics("lorawan_uplink", "lora-th-tls")))[0]
            assert up.fields["rssi_dbm"] == -36
    finally:
        pub.disconnect()
        pub.loop_stop()


@pytest.mark.timeout(60)
async def test_a_broker_signed_by_another_ca_is_never_trusted(
        tls_broker: tuple[Mosquitto, certs.TestPki], tmp_path: Path) -> None:
    broker, pki = tls_broker
    tls = {"ca_file": str(pki.other_ca), "cert_file": str(pki.client_cert),
           "key_file": str(pki.client_key)}
    with pytest.raises(AssertionError, match="not within"):
        async with listening(broker.host, broker.port, fleet("-bad"), tmp_path,
                             credentials={"broker": CRED}, credential="broker", tls=tls,
                             connect_limit_s=3.0):
            pass
