"""Servers seen over SNMP HOST-RESOURCES-MIB (RFC 2790), for the 国产化 audit: the CPU from
hrDeviceDescr of the processor rows, the OS from sysDescr (kernel release, Windows) or the
release package in hrSWInstalled, databases and middleware from hrSWRun (name, path,
parameters). Classified by agent/shared/platforms.py, each verdict with its rule.

Read only for boxes identified as servers (or whose inventory kind is server): a switch has
no hrSWRun worth reading. Tables are bounded (MAX_ROWS per column); a walk that fails keeps
what arrived, and the verdicts say `unknown` for what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.core.errors import CollectError
from agent.core.model import Metric
from agent.shared import platforms as P
from collectors.snmp.oids import Obj, _o
from collectors.snmp.session import Oid, SnmpSession, VarBind
from collectors.snmp.values import text

HR_DEVICE_TYPE = _o("HOST-RESOURCES-MIB", "hrDeviceType", "1.3.6.1.2.1.25.3.2.1.2")
HR_DEVICE_DESCR = _o("HOST-RESOURCES-MIB", "hrDeviceDescr", "1.3.6.1.2.1.25.3.2.1.3")
HR_SW_RUN_NAME = _o("HOST-RESOURCES-MIB", "hrSWRunName", "1.3.6.1.2.1.25.4.2.1.2")
HR_SW_RUN_PATH = _o("HOST-RESOURCES-MIB", "hrSWRunPath", "1.3.6.1.2.1.25.4.2.1.4")
HR_SW_RUN_PARAMETERS = _o("HOST-RESOURCES-MIB", "hrSWRunParameters",
                          "1.3.6.1.2.1.25.4.2.1.5")
HR_SW_INSTALLED_NAME = _o("HOST-RESOURCES-MIB", "hrSWInstalledName",
                          "1.3.6.1.2.1.25.6.3.1.2")
HR_DEVICE_PROCESSOR: Oid = (1, 3, 6, 1, 2, 1, 25, 3, 1, 3)  # HOST-RESOURCES-TYPES
SOURCE = "snmp-host-resources"
MAX_ROWS = 4096  # per column: a server runs hundreds of processes, not tens of thousands


async def _walk(session: SnmpSession, obj: Obj, problems: list[str]) -> dict[Oid, VarBind]:
    try:
        vbs = await session.walk(obj.oid)
    except CollectError as exc:
        vbs = list(getattr(exc, "varbinds", []) or [])
        problems.append(f"{obj.mib}::{obj.name}: {exc.error_type.value}")
    n = len(obj.oid)
    return {vb.oid[n:]: vb for vb in vbs[:MAX_ROWS] if vb.oid[:n] == obj.oid}


async def read_server(session: SnmpSession, sys_descr: str) -> tuple[list[P.Verdict],
                                                                     list[str]]:
    """Verdicts (CPU, OS, then each database/middleware product) and the walks that failed."""
    problems: list[str] = []
    types = await _walk(session, HR_DEVICE_TYPE, problems)
    descrs = await _walk(session, HR_DEVICE_DESCR, problems)
    cpus = [text(descrs.get(i)) for i, vb in types.items() if vb.value == HR_DEVICE_PROCESSOR]
    cpus = [c for c in cpus if c]
    cpu = (P.cpu_from_model(cpus[0]) if cpus else
           P.unknown(P.Category.CPU, "", "no hrDeviceProcessor row"))
    installed = await _walk(session, HR_SW_INSTALLED_NAME, problems)
    os_v = P.os_from_packages(text(vb) for vb in installed.values())
    if os_v is None:
        os_v = P.os_from_text(sys_descr)
    names = await _walk(session, HR_SW_RUN_NAME, problems)
    paths = await _walk(session, HR_SW_RUN_PATH, problems) if names else {}
    params = await _walk(session, HR_SW_RUN_PARAMETERS, problems) if names else {}
    procs = [(text(vb), text(paths.get(i)), text(params.get(i))) for i, vb in names.items()]
    return [cpu, os_v, *P.software_from_processes(procs)], problems


def verdict_metrics(verdicts: Sequence[P.Verdict], ts: int) -> list[Metric]:
    """One `server_platform` row per verdict: category, vendor, product, domestic, rule."""
    return [Metric(P.SERVER_PLATFORM.name, P.verdict_tags(v, SOURCE), {"info": 1}, ts)
            for v in verdicts]
