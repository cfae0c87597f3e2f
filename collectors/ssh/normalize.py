"""TextFSM records → typed rows. One function per template, because field names differ
between ntc-templates' files and ours; the table `NORMALIZERS` maps template file → function."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from collectors.ssh.parsing import Record
from collectors.ssh.rows import AccessPoint, ApState, Ipv6Interface, LldpNeighbor, VersionInfo

Row = VersionInfo | Ipv6Interface | AccessPoint | LldpNeighbor
Normalizer = Callable[[Sequence[Record]], list[Row]]


class NormalizeError(Exception):
    """Records parsed but lack what the row needs (e.g. a version output without a version)."""


_UNITS = {
    "year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60,
    "second": 1, "y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1,
}


def parse_uptime(text: str) -> int | None:
    """'2 years, 31 weeks, 6 days, 9 hours', '4D:1H:10M:0S', RGOS '313:22:34:30' (d:h:m:s)."""
    text = text.strip()
    if re.fullmatch(r"\d+:\d+:\d+:\d+", text):
        d, h, m, s = (int(x) for x in text.split(":"))
        return ((d * 24 + h) * 60 + m) * 60 + s
    total, found = 0, False
    for num, unit in re.findall(r"(\d+)\s*([A-Za-z]+)(?:\(s\))?", text):
        key = unit.lower().rstrip("s") if len(unit) > 1 else unit.lower()
        if key not in _UNITS:
            continue
        total += int(num) * _UNITS[key]
        found = True
    return total if found else None


def normalize_mac(mac: str) -> str:
    """'aaaa-bbbb-cccc', 'aa:bb:…', 'aabb.ccdd.eeff' → 'aa:bb:cc:dd:ee:ff' (others unchanged)."""
    hexdigits = re.sub(r"[^0-9A-Fa-f]", "", mac)
    if len(hexdigits) != 12 or not re.fullmatch(r"[0-9A-Fa-f:.\-]+", mac):
        return mac.lower()
    h = hexdigits.lower()
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


def _s(rec: Record, key: str) -> str:
    v = rec.get(key, "")
    return v if isinstance(v, str) else (v[0] if v else "")


def _list(rec: Record, key: str) -> list[str]:
    v = rec.get(key, [])
    return [v] if isinstance(v, str) and v else (list(v) if isinstance(v, list) else [])


def _one(records: Sequence[Record]) -> Record:
    if not records:
        raise NormalizeError("no version information found")
    return records[0]


def _up(state: str) -> bool:
    s = state.strip().lower()
    return s.startswith("up")


def _addresses(raw: Sequence[str]) -> tuple[str, ...]:
    out = []
    for a in raw:
        a = a.split("/")[0]
        if ":" in a:  # "unassigned", "Unassigned", "--" are not addresses
            out.append(a.lower())
    return tuple(out)


# ---------------------------------------------------------------- version
def huawei_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    model = _s(r, "model")
    model = re.sub(r"\s+(Routing\s+Switch|Switch|Router)$", "", model)
    product = _s(r, "product_version")  # "NE40E V800R011C00SPC200" / "S5720 V200R011C10SPC600"
    version = product.split()[-1] if product else _s(r, "vrp_version")
    if not version:
        raise NormalizeError("no software version in output")
    return [VersionInfo("Huawei", model, f"VRP {_s(r, 'vrp_version')}".strip(), version,
                        uptime_seconds=parse_uptime(_s(r, "uptime")))]


def comware_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    vendor = "H3C" if _s(r, "vendor") == "H3C" else "HPE"  # d.1: split H3C vs HPE by text
    release = _s(r, "release")
    version = f"{_s(r, 'os_version')} {release}".strip()
    return [VersionInfo(vendor, _s(r, "model"), f"Comware {_s(r, 'os_version')}".strip(),
                        version, uptime_seconds=parse_uptime(_s(r, "uptime")))]


def ruijie_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    desc = _s(r, "description")
    m = re.search(r"\(([^()]+)\)", desc)
    model = m.group(1) if m else desc
    software = _s(r, "software")  # "RGOS 10.4(3b19)p3 Release(180891)", "S8600E_RGOS 11.0(4)B8"
    sm = re.search(r"RGOS\s+(\S+)", software)
    version = sm.group(1) if sm else software
    return [VersionInfo("Ruijie", model, "RGOS", version, hostname=_s(r, "hostname"),
                        serial=_s(r, "serial"), uptime_seconds=parse_uptime(_s(r, "uptime")))]


def cisco_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    version = _s(r, "version")
    if not version:
        raise NormalizeError("no software version in output")
    return [VersionInfo("Cisco", _s(r, "hardware"), "IOS", version, hostname=_s(r, "hostname"),
                        serial=_s(r, "serial"), uptime_seconds=parse_uptime(_s(r, "uptime")))]


def zte_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    # ntc's template keeps what follows "ZXCTN" as hardware, and "<model> <version>" as version
    model = f"ZXCTN {_s(r, 'hardware').strip()}".strip()
    version = _s(r, "version").split()
    return [VersionInfo("ZTE", model, "ZXROS", version[-1] if version else "",
                        uptime_seconds=parse_uptime(_s(r, "uptime")))]


def aruba_version(records: Sequence[Record]) -> list[Row]:
    r = _one(records)
    return [VersionInfo("Aruba", "", "ArubaOS", _s(r, "image_version"))]


# ---------------------------------------------------------------- IPv6 interfaces
def ipv6_own(records: Sequence[Record]) -> list[Row]:
    """Our templates: interface, physical|admin, protocol, address(es)."""
    out: list[Row] = []
    for r in records:
        admin = _s(r, "physical") or _s(r, "admin")
        addrs = _list(r, "address")
        out.append(Ipv6Interface(_s(r, "interface"), _admin_up(admin), _up(_s(r, "protocol")),
                                 _addresses(addrs)))
    return out


def ipv6_ntc(records: Sequence[Record]) -> list[Row]:
    """ntc-templates' IOS / ArubaOS: INTERFACE, ADMIN, PROTOCOL, IPV6_ADDRESS (list)."""
    return [Ipv6Interface(_s(r, "interface"), _admin_up(_s(r, "admin")),
                          _up(_s(r, "protocol")), _addresses(_list(r, "ipv6_address")))
            for r in records]


def _admin_up(state: str) -> bool:
    # "administratively down" / "*down" are the admin-down spellings; a link that is merely
    # down (no cable) is administratively up
    s = state.strip().lower()
    return not (s.startswith("admin") or s.startswith("*down"))


# ---------------------------------------------------------------- APs
_HUAWEI_AP_STATES = {"nor": ApState.UP, "normal": ApState.UP, "fault": ApState.DOWN,
                     "idle": ApState.DOWN}


def huawei_aps(records: Sequence[Record]) -> list[Row]:
    out: list[Row] = []
    for r in records:
        sta = _s(r, "sta")
        out.append(AccessPoint(
            name=_s(r, "name"), mac=normalize_mac(_s(r, "mac_address")), model=_s(r, "type"),
            state=_HUAWEI_AP_STATES.get(_s(r, "state").lower(), ApState.OTHER),
            ip=_s(r, "ip_address"), clients=int(sta) if sta.isdigit() else None,
            uptime_seconds=parse_uptime(_s(r, "uptime")) if _s(r, "uptime") else None))
    return out


def aruba_aps(records: Sequence[Record]) -> list[Row]:
    out: list[Row] = []
    for r in records:
        status = _s(r, "status")
        state = (ApState.UP if status.lower().startswith("up") else
                 ApState.DOWN if status.lower().startswith("down") else ApState.OTHER)
        up = re.search(r"Up\s+(\S+)", status)
        out.append(AccessPoint(
            name=_s(r, "ap_name"), mac="", model=_s(r, "ap_model"), state=state,
            ip=_s(r, "ip_address"), uptime_seconds=parse_uptime(up.group(1)) if up else None))
    return out


# ---------------------------------------------------------------- LLDP
def lldp_huawei(records: Sequence[Record]) -> list[Row]:
    return [LldpNeighbor(_s(r, "local_interface"), normalize_mac(_s(r, "chassis_id")),
                         _s(r, "neighbor_port_id") or _s(r, "neighbor_interface"),
                         _s(r, "neighbor_name"))
            for r in records if _s(r, "chassis_id")]


def lldp_table(records: Sequence[Record]) -> list[Row]:
    """Comware list / IOS brief: LOCAL_INTERFACE, CHASSIS_ID (IOS: none), NEIGHBOR_*."""
    return [LldpNeighbor(_s(r, "local_interface"), normalize_mac(_s(r, "chassis_id")),
                         _s(r, "neighbor_interface"), _s(r, "neighbor_name"))
            for r in records]


NORMALIZERS: dict[str, Normalizer] = {
    "huawei_vrp_display_version.textfsm": huawei_version,
    "comware_display_version.textfsm": comware_version,
    "ruijie_show_version.textfsm": ruijie_version,
    "cisco_ios_show_version.textfsm": cisco_version,
    "zte_zxros_show_version.textfsm": zte_version,
    "aruba_os_show_version.textfsm": aruba_version,
    "huawei_display_ipv6_interface_brief.textfsm": ipv6_own,
    "comware_display_ipv6_interface_brief.textfsm": ipv6_own,
    "ruijie_show_ipv6_interface_brief.textfsm": ipv6_own,
    "cisco_ios_show_ipv6_interface_brief.textfsm": ipv6_ntc,
    "aruba_os_show_ipv6_interface_brief.textfsm": ipv6_ntc,
    "huawei_vrp_display_ap_all.textfsm": huawei_aps,
    "aruba_os_show_ap_database.textfsm": aruba_aps,
    "huawei_vrp_display_lldp_neighbor.textfsm": lldp_huawei,
    "hp_comware_display_lldp_neighbor-information_list.textfsm": lldp_table,
    "cisco_ios_show_lldp_neighbors.textfsm": lldp_table,
}
