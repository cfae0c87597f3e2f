"""SNMPv3 authPriv and IPv6 transport against a real net-snmp snmpd on loopback."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agent.core.errors import CollectError
from agent.core.model import ErrorType
from collectors.snmp.cli import identify_host
from collectors.snmp.session import SnmpType, oid_from_str
from collectors.snmp.transport import (
    AesKeyExtension,
    TransportKind,
    TransportOptions,
    open_session,
)
from config.credentials import (
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpV2cCredential,
    SnmpV3Credential,
)
from tests.collectors.snmp.conftest import SNMPD_USERS, Snmpd, V3User

OPTIONS = TransportOptions(timeout_s=1.0, retries=1, transport=TransportKind.PYSNMP)
SYS_NAME = oid_from_str("1.3.6.1.2.1.1.5.0")
SNMPD_CACHE_S = 5.0  # net-snmp serves IF-MIB counters from a cache refreshed every few seconds


def v3(u: V3User, **override: str) -> SnmpV3Credential:
    fields = {"auth_key": u.auth_key, "priv_key": u.priv_key, "user": u.user, **override}
    return SnmpV3Credential(
        name=f"v3-{u.user}", type="snmp_v3", user=fields["user"],
        auth_protocol=SnmpAuthProtocol(u.auth_protocol) if u.auth_protocol else None,
        auth_key=SecretStr(fields["auth_key"]) if u.auth_protocol else None,
        priv_protocol=SnmpPrivProtocol(u.priv_protocol) if u.priv_protocol else None,
        priv_key=SecretStr(fields["priv_key"]) if u.priv_protocol else None)


def options_for(u: V3User) -> TransportOptions:
    return TransportOptions(timeout_s=1.0, retries=1, transport=TransportKind.PYSNMP,
                            aes_key_extension=AesKeyExtension(u.aes_key_extension))


async def _sys_name(host: str, port: int, cred: SnmpV2cCredential | SnmpV3Credential,
                    options: TransportOptions = OPTIONS) -> bytes:
    session = await open_session(host, port, cred, options)
    try:
        (vb,) = await session.get([SYS_NAME])
    finally:
        await session.close()
    assert vb.type is SnmpType.OCTET_STRING and isinstance(vb.value, bytes)
    return vb.value


@pytest.mark.timeout(30)
@pytest.mark.parametrize("user", ["shaaes", "sha256aes"])
async def test_v3_auth_priv_identifies_the_agent(snmpd: Snmpd, user: str) -> None:
    u = next(x for x in snmpd.users if x.user == user)
    doc, problems = await identify_host("127.0.0.1", snmpd.port, v3(u), OPTIONS)
    assert problems == []
    assert doc["sys_object_id"] == "1.3.6.1.4.1.8072.3.2.10"  # net-snmp on Linux
    assert doc["kind"] == "server" and doc["vendor"] == "unknown"
    assert doc["sys_name"] == "campus-test-core"
    assert doc["interfaces"] >= 1  # at least loopback


@pytest.mark.timeout(30)
@pytest.mark.parametrize("user", [u.user for u in SNMPD_USERS])
async def test_every_usm_protocol_and_security_level(snmpd: Snmpd, user: str) -> None:
    u = next(x for x in snmpd.users if x.user == user)
    cred = v3(u)
    assert cred.security_level.value == {"priv": "authPriv", "auth": "authNoPriv",
                                         "noauth": "noAuthNoPriv"}[u.level]
    assert await _sys_name("127.0.0.1", snmpd.port, cred, options_for(u)) == b"campus-test-core"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("field", ["auth_key", "priv_key", "user"])
async def test_wrong_v3_secret_is_an_auth_error_not_a_timeout(snmpd: Snmpd, field: str) -> None:
    """Wrong auth key / unknown user: the agent sends a usmStats report. Wrong privacy key:
    the agent cannot decrypt and stays silent; one authNoPriv probe tells it from a dead box."""
    u = snmpd.users[0]
    bad = v3(u, **{field: "definitely-wrong-" + field})
    with pytest.raises(CollectError) as info:
        await _sys_name("127.0.0.1", snmpd.port, bad)
    assert info.value.error_type is ErrorType.AUTH, str(info.value)


@pytest.mark.timeout(30)
async def test_ipv6_transport_v2c_and_v3(snmpd: Snmpd) -> None:
    v2 = SnmpV2cCredential(name="v2", type="snmp_v2c", community=SecretStr(snmpd.community))
    assert await _sys_name("::1", snmpd.port, v2) == b"campus-test-core"
    assert await _sys_name("::1", snmpd.port, v3(snmpd.users[1])) == b"campus-test-core"


@pytest.mark.timeout(30)
def test_identify_over_bracketed_ipv6(snmpd: Snmpd, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from agent.app.cli import main

    u = snmpd.users[1]
    rc = main(["identify", f"[::1]:{snmpd.port}", "--v3-user", u.user, "--auth-proto",
               u.auth_protocol, "--auth-key", u.auth_key, "--priv-proto", u.priv_protocol,
               "--priv-key", u.priv_key, "--transport", "pysnmp"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert "::1" in doc["ipv6_addresses"]  # the agent's own IP-MIB ipAddressTable


@pytest.mark.timeout(30)
def test_identify_with_a_credential_set_from_the_config(
        snmpd: Snmpd, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from agent.app.cli import main

    u = snmpd.users[0]
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(
        "credentials:\n"
        f"  - name: core-v3\n    type: snmp_v3\n    user: {u.user}\n"
        f"    auth_protocol: {u.auth_protocol}\n    auth_key: {u.auth_key}\n"
        f"    priv_protocol: {u.priv_protocol}\n    priv_key: {u.priv_key}\n"
        "inputs:\n  - type: host\n")
    rc = main(["identify", f"127.0.0.1:{snmpd.port}", "--config", str(cfg),
               "--credential", "core-v3", "--transport", "pysnmp"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "server"


@pytest.mark.timeout(30)
async def test_v3_to_a_dead_port_is_a_timeout_not_auth() -> None:
    """The privacy-key probe must not turn a silent device into an auth error."""
    import socket

    u = V3User("nobody", "SHA", "auth-sha-secret", "AES", "priv-aes-secret")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        options = TransportOptions(timeout_s=0.3, retries=0, transport=TransportKind.PYSNMP)
        with pytest.raises(CollectError) as info:
            await _sys_name("127.0.0.1", s.getsockname()[1], v3(u), options)
    assert info.value.error_type is ErrorType.TIMEOUT


@pytest.mark.timeout(30)
async def test_a_name_with_only_an_aaaa_record(snmpd: Snmpd,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver is the one thing faked here: no name on this box has only an AAAA record
    (and /etc/hosts is not ours to edit). The SNMP exchange itself is real, over ::1."""
    import socket

    real = socket.getaddrinfo

    def fake(host: object, port: object, family: int = 0, *args: object, **kw: object):
        if host == "core-v6only.campus.test":
            if family == socket.AF_INET:
                raise socket.gaierror(socket.EAI_NONAME, "no A record")
            return real("::1", port, socket.AF_INET6, *args, **kw)  # type: ignore[arg-type]
        return real(host, port, family, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    v2 = SnmpV2cCredential(name="v2", type="snmp_v2c", community=SecretStr(snmpd.community))
    assert await _sys_name("core-v6only.campus.test", snmpd.port, v2) == b"campus-test-core"


@pytest.mark.timeout(60)
async def test_rates_from_live_counters(snmpd: Snmpd, tmp_path) -> None:
    """net-snmp reports this host's real counters: our own SNMP traffic crosses `lo`, so the
    second poll shows a positive bit rate on it, consistent with the raw counter delta."""
    import asyncio

    from agent.core.model import Metric
    from agent.core.plugin import BuildContext, Target
    from collectors.snmp.plugin import SnmpConfig, build
    from inventory.models import Inventory

    u = snmpd.users[1]
    ctx = BuildContext(instance="snmp/live", inventory=Inventory.empty(),
                       credentials={"core": v3(u)}, data_dir=tmp_path, config_dir=tmp_path)
    poller = build(SnmpConfig(transport="pysnmp", credential="core",
                              profiles=["system", "interfaces", "ip"]), ctx)
    target = Target(id="core", ipv4="127.0.0.1", port=snmpd.port)

    def lo(items) -> Metric:
        return next(m for m in items if isinstance(m, Metric) and m.name == "snmp_interface"
                    and m.tags["ifname"] == "lo")

    try:
        first = await poller.poll(target)
        await asyncio.sleep(SNMPD_CACHE_S)  # past net-snmp's interface cache, or no change
        second = await poller.poll(target)
    finally:
        await poller.close()
    a, b = lo(first), lo(second)
    assert "in_bps" not in a.fields
    delta = int(b.fields["in_octets"]) - int(a.fields["in_octets"])
    bps = float(b.fields["in_bps"])
    assert delta > 0 and bps > 0
    # in_bps is the octet delta over the time between the two polls (≥ the sleep).
    assert bps <= delta * 8 / SNMPD_CACHE_S
    v4 = [m for m in second if isinstance(m, Metric) and m.name == "snmp_ip_traffic"
          and m.tags["ip_version"] == "ipv4"]
    # net-snmp caches ipSystemStatsTable for a while: the rate exists, it may still be 0.
    assert v4 and float(v4[0].fields["in_bps"]) >= 0
