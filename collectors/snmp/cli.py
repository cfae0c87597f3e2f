"""`campusmon identify HOST[:PORT]`: poll one device once and print what the agent would see.

Admins check a device before adding it to the inventory; tests use it too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core.errors import CollectError, ConfigError
from agent.core.lineprotocol import render
from agent.core.model import Metric
from agent.core.plugin import CliContext, Registry
from collectors.snmp.collect import DevicePoller
from collectors.snmp.metrics import Clock, to_metrics
from collectors.snmp.profiles.load import ProfileSet, builtin_profiles, load_profiles
from collectors.snmp.rates import RateTracker
from collectors.snmp.records import DeviceData, Profile
from collectors.snmp.session import oid_to_str
from collectors.snmp.sim.cli import register as register_sim
from collectors.snmp.transport import (
    AesKeyExtension,
    SnmpCredential,
    TransportKind,
    TransportOptions,
    open_session,
    split_host_port,
)
from config.base import check_secret_file
from config.credentials import (
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpV2cCredential,
    SnmpV3Credential,
)

IDENTIFY_PROFILES = (Profile.SYSTEM, Profile.ENTITY, Profile.INTERFACES, Profile.IPV6,
                     Profile.WLAN)


def report(data: DeviceData) -> dict[str, Any]:
    """The JSON document `identify` prints."""
    ident, system = data.identity, data.system
    return {
        "vendor": ident.vendor,
        "domestic": ident.domestic.value,
        "domestic_rule": ident.domestic_rule,
        "kind": ident.kind.value,
        "kind_rule": ident.kind_rule,
        "kind_source": ident.kind_source,
        "os": ident.os,
        "model": data.entity.model,
        "serial": data.entity.serial,
        "firmware": data.entity.firmware,
        "sys_name": system.name,
        "sys_descr": system.descr,
        "sys_object_id": oid_to_str(system.object_id) if system.object_id else None,
        "interfaces": len(data.interface_indexes),
        "ipv6_addresses": [a.address for a in data.addresses if a.family == "ipv6"],
        "wlan_aps": None if data.wlan is None else len(data.wlan.aps),
        "profiles": [p.name for p in builtin_profiles().select(
            system.object_id, system.descr, ident.vendor)],
    }


async def identify_host(host: str, port: int, credential: SnmpCredential,
                        options: TransportOptions) -> tuple[dict[str, Any], list[str]]:
    """(report, problems met on the way); raises CollectError when the device never answered."""
    session = await open_session(host, port, credential, options)
    try:
        result = await DevicePoller(session, IDENTIFY_PROFILES).run()
    finally:
        await session.close()
    problems = [f"{f.what}: {f.error_type.value} ({f.detail})" for f in result.failures]
    return report(result.data), problems


# What `poll` reads: the snmp plugin's default tables plus the YAML profiles.
POLL_PROFILES = (Profile.SYSTEM, Profile.INTERFACES, Profile.IP, Profile.IPV6, Profile.ENTITY,
                 Profile.LLDP, Profile.WLAN)


async def poll_host(host: str, port: int, credential: SnmpCredential, options: TransportOptions,
                    profiles: ProfileSet, names: list[str] | None = None
                    ) -> tuple[list[Metric], DeviceData, list[str]]:
    """One poll as the `snmp` plugin does it: (metrics, data, problems met on the way)."""
    session = await open_session(host, port, credential, options)
    try:
        result = await DevicePoller(session, POLL_PROFILES, profiles, names).run()
    finally:
        await session.close()
    from inventory.models import Inventory

    clock = Clock(time.time_ns(), time.monotonic())
    items = to_metrics(result.data, RateTracker(), clock, Inventory.empty(), host)
    problems = [f"{f.what}: {f.error_type.value} ({f.detail})" for f in result.failures]
    return items, result.data, problems


def cmd_poll(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        host, port = split_host_port(args.target)
    except ValueError:
        raise ConfigError.one("poll", f"bad HOST[:PORT] '{args.target}'") from None
    cred = _credential(args, ctx.registry)
    profiles = (load_profiles([Path(d) for d in args.profiles_dir]) if args.profiles_dir
                else builtin_profiles())
    names: list[str] | None = None
    if args.profiles != "auto":
        names = [n.strip() for n in args.profiles.split(",") if n.strip()]
        unknown = [n for n in names if n not in profiles.profiles]
        if unknown:
            raise ConfigError.one("poll --profiles", f"unknown profile(s) {', '.join(unknown)} "
                                  f"(known: {', '.join(sorted(profiles.profiles))})")
    options = TransportOptions(timeout_s=args.timeout, retries=args.retries,
                               max_repetitions=args.max_repetitions,
                               transport=TransportKind(args.transport),
                               aes_key_extension=AesKeyExtension(args.aes_key_extension))
    try:
        items, data, problems = asyncio.run(poll_host(host, port, cred, options, profiles,
                                                      names))
    except CollectError as exc:
        print(f"campusmon: poll {args.target}: {exc.error_type.value}: {exc}", file=sys.stderr)
        return 1
    for p in problems:
        print(f"campusmon: poll {args.target}: {p}", file=sys.stderr)
    print(f"campusmon: poll {args.target}: kind {data.identity.kind.value} "
          f"({data.identity.kind_rule}); profiles: {', '.join(data.matched_profiles) or '-'}",
          file=sys.stderr)
    if args.format == "json":
        print(json.dumps([{"measurement": m.name, "tags": dict(m.tags),
                           "fields": dict(m.fields)} for m in items],
                         ensure_ascii=False, indent=1))
    else:
        for m in items:
            print(render(m))
    return 0


def _key(value: str | None, env: str | None, file: str | None, what: str) -> str | None:
    """A v3 key from --X (visible in the process list), --X-env VAR or --X-file PATH."""
    if sum(1 for x in (value, env, file) if x) > 1:
        raise ConfigError.one("identify", f"give one of --{what}, --{what}-env, --{what}-file")
    if env:
        got = os.environ.get(env)
        if not got:
            raise ConfigError.one("identify", f"--{what}-env: environment variable {env} is "
                                  "not set")
        return got
    if file:
        path = Path(file)
        try:
            check_secret_file(path, f"--{what}-file")
        except ValueError as exc:
            raise ConfigError.one("identify", str(exc)) from None
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError.one("identify", f"--{what}-file: cannot read {path}: "
                                  f"{exc.strerror}") from None
    return value


def _credential(args: argparse.Namespace, registry: Registry) -> SnmpCredential:
    given = sum(1 for x in (args.community, args.v3_user, args.credential) if x)
    if given != 1:
        raise ConfigError.one("identify", "give exactly one of --community, --v3-user or "
                              "--credential (with --config)")
    if args.community:
        return SnmpV2cCredential(name="cli", type="snmp_v2c", community=args.community)
    if args.v3_user:
        auth_key = _key(args.auth_key, args.auth_key_env, args.auth_key_file, "auth-key")
        priv_key = _key(args.priv_key, args.priv_key_env, args.priv_key_file, "priv-key")
        try:
            return SnmpV3Credential(
                name="cli", type="snmp_v3", user=args.v3_user,
                auth_protocol=args.auth_proto, auth_key=auth_key,
                priv_protocol=args.priv_proto, priv_key=priv_key)
        except ValidationError as exc:
            # the messages only: pydantic's text would quote the input, i.e. the keys
            errs = exc.errors(include_input=False, include_url=False)
            msg = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'credential'}: {e['msg']}"
                            for e in errs)
            raise ConfigError.one("identify --v3-user", msg) from None
    if not args.config:
        raise ConfigError.one("identify", "--credential needs --config")
    from config.loader import load_config

    cfg = load_config(Path(args.config), registry)
    cred = cfg.credentials.get(args.credential)
    if not isinstance(cred, SnmpV2cCredential | SnmpV3Credential):
        raise ConfigError.one(str(args.config), f"no snmp_v2c/snmp_v3 credential set named "
                              f"'{args.credential}'")
    return cred


def cmd_identify(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        host, port = split_host_port(args.target)
    except ValueError:
        raise ConfigError.one("identify", f"bad HOST[:PORT] '{args.target}'") from None
    cred = _credential(args, ctx.registry)
    options = TransportOptions(timeout_s=args.timeout, retries=args.retries,
                               max_repetitions=args.max_repetitions,
                               transport=TransportKind(args.transport),
                               aes_key_extension=AesKeyExtension(args.aes_key_extension))
    try:
        doc, problems = asyncio.run(identify_host(host, port, cred, options))
    except CollectError as exc:
        print(f"campusmon: identify {args.target}: {exc.error_type.value}: {exc}",
              file=sys.stderr)
        return 1
    for p in problems:
        print(f"campusmon: identify {args.target}: {p}", file=sys.stderr)
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
             ctx: CliContext) -> None:
    """`identify`, `poll` and the simulated campus (`sim-campus`)."""
    register_sim(subparsers, ctx)
    p = subparsers.add_parser("identify", help="poll one SNMP device once; print its identity")
    _device_args(p)
    p.set_defaults(func=functools.partial(cmd_identify, ctx=ctx))
    p = subparsers.add_parser(
        "poll", help="poll one SNMP device once with the profiles its identity selects; "
        "print every measurement the snmp plugin would write")
    _device_args(p)
    p.add_argument("--profiles", default="auto",
                   help="auto (every profile whose match holds) or P1,P2 (exactly these)")
    p.add_argument("--profiles-dir", action="append", default=[],
                   help="a directory of user profiles (YAML), added to the built-in ones")
    p.add_argument("--format", choices=("lp", "json"), default="lp")
    p.set_defaults(func=functools.partial(cmd_poll, ctx=ctx))


def _device_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="HOST[:PORT]", help="name, IPv4, IPv6 or [IPv6]:port")
    p.add_argument("--community", help="SNMPv2c community (visible in the process list: "
                   "prefer --config with --credential)")
    p.add_argument("--v3-user", help="SNMPv3 user name")
    p.add_argument("--auth-proto", choices=[a.value for a in SnmpAuthProtocol])
    p.add_argument("--auth-key", help="visible in the process list: prefer --auth-key-env/-file")
    p.add_argument("--auth-key-env", metavar="VAR", help="read the auth key from $VAR")
    p.add_argument("--auth-key-file", metavar="PATH", help="read the auth key from a 0600 file")
    p.add_argument("--priv-proto", choices=[a.value for a in SnmpPrivProtocol])
    p.add_argument("--priv-key", help="visible in the process list: prefer --priv-key-env/-file")
    p.add_argument("--priv-key-env", metavar="VAR", help="read the privacy key from $VAR")
    p.add_argument("--priv-key-file", metavar="PATH", help="read the privacy key from a 0600 file")
    p.add_argument("--config", help="config file holding the credential set")
    p.add_argument("--credential", help="credential set name in --config")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds per request")
    p.add_argument("--retries", type=int, default=1)
    p.add_argument("--max-repetitions", type=int, default=25)
    p.add_argument("--transport", choices=[t.value for t in TransportKind],
                   default=TransportKind.AUTO.value)
    p.add_argument("--aes-key-extension", choices=[a.value for a in AesKeyExtension],
                   default=AesKeyExtension.REEDER.value,
                   help="AES-192/256 key stretching: reeder (Cisco, most vendors) or "
                        "blumenthal (net-snmp's AES192/AES256)")
