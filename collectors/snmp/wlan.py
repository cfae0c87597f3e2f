"""Wireless controllers: vendor AP/radio tables mapped into one vendor-neutral model.

Each `WlanMap` is data: which column holds which field, how states and bands are coded.
OIDs cite docs/standards.md#e-2 … docs/standards.md#e-5 (checked there) unless marked otherwise.
Rows of an AP table are keyed by their index; a radio row's index is its AP's index plus the
radio number, so both tables join without vendor code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from collectors.snmp.oids import Obj
from collectors.snmp.session import Oid, oid_from_str
from collectors.snmp.values import Row, ip_of, mac_from_index, mac_of, number, seconds, text


class ApField(enum.StrEnum):
    NAME = "name"
    MAC = "mac"
    MODEL = "model"
    SERIAL = "serial"
    FIRMWARE = "firmware"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    STATE = "state"
    UPTIME = "uptime"
    CLIENTS = "clients"


class RadioField(enum.StrEnum):
    BAND = "band"
    CHANNEL = "channel"
    WIDTH = "width"
    UTILIZATION = "utilization"
    CLIENTS = "clients"
    STATE = "state"


class ApState(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class WlanMap:
    id: str
    vendors: frozenset[str]
    source: str
    ap: Mapping[ApField, Obj]  # ApField.NAME is walked first: no rows, no AP table
    radio: Mapping[RadioField, Obj] = field(default_factory=dict)
    ap_up: frozenset[int] = frozenset()
    ap_down: frozenset[int] = frozenset()
    listed_means_up: bool = False  # the table lists joined APs only and has no state column
    radio_up: frozenset[int] = frozenset()
    bands: Mapping[int, str] = field(default_factory=dict)
    widths_mhz: Mapping[int, int] = field(default_factory=dict)
    aps_total: Obj | None = None
    clients_total: Obj | None = None

    def columns(self) -> list[Obj]:
        return [*self.ap.values(), *self.radio.values()]


def _ap(mib: str, base: str, **spec: tuple[str, int]) -> dict[ApField, Obj]:
    return {ApField(k): Obj(mib, n, (*oid_from_str(base), c)) for k, (n, c) in spec.items()}


def _radio(mib: str, base: str, **spec: tuple[str, int]) -> dict[RadioField, Obj]:
    return {RadioField(k): Obj(mib, n, (*oid_from_str(base), c)) for k, (n, c) in spec.items()}


_HW_AP = "1.3.6.1.4.1.2011.6.139.13.3.3.1"
_HW_RADIO = "1.3.6.1.4.1.2011.6.139.16.1.2.1"
_H3C_STATUS = "1.3.6.1.4.1.25506.2.75.2.1.1.1"
_H3C_OBJECT = "1.3.6.1.4.1.25506.2.75.2.1.2.1"
_H3C_RADIO = "1.3.6.1.4.1.25506.2.75.2.1.3.1"
_RUIJIE_AP = "1.3.6.1.4.1.4881.1.1.10.2.56.2.1.1.1"
_BSN_AP = "1.3.6.1.4.1.14179.2.2.1.1"
_BSN_RADIO = "1.3.6.1.4.1.14179.2.2.2.1"
_BSN_LOAD = "1.3.6.1.4.1.14179.2.2.13.1"
_LWAPP_AP = "1.3.6.1.4.1.9.9.513.1.1.1.1"
_WLSX_AP = "1.3.6.1.4.1.14823.2.2.1.5.2.1.4.1"
_WLSX_RADIO = "1.3.6.1.4.1.14823.2.2.1.5.2.1.5.1"
_AI_AP = "1.3.6.1.4.1.14823.2.3.3.1.2.1.1"

_HW_AP_MIB = "HUAWEI-WLAN-AP-MIB"
_HW_RADIO_MIB = "HUAWEI-WLAN-AP-RADIO-MIB"
_BSN = "AIRESPACE-WIRELESS-MIB"
_WLSX = "WLSX-WLAN-MIB"

WLAN_MAPS: tuple[WlanMap, ...] = (
    WlanMap(
        "huawei", frozenset({"Huawei"}), "docs/standards.md#e-2 HUAWEI-WLAN-*-MIB",
        ap={**_ap(_HW_AP_MIB, _HW_AP, name=("hwWlanApName", 4), serial=("hwWlanApSn", 2),
                  model=("hwWlanApTypeInfo", 3), state=("hwWlanApRunState", 6),
                  firmware=("hwWlanApSoftwareVersion", 7), ipv4=("hwWlanApIpAddress", 13),
                  ipv6=("hwWlanApIpv6Address", 28), uptime=("hwWlanApRunTime", 18),
                  clients=("hwWlanApOnlineUserNum", 44))},
        radio=_radio(_HW_RADIO_MIB, _HW_RADIO, band=("hwWlanRadioFreqType", 5),
                     state=("hwWlanRadioRunState", 6),
                     channel=("hwWlanRadioWorkingChannel", 7),
                     width=("hwWlanRadioWorkingChannelBandwidth", 10),
                     utilization=("hwWlanRadioChUtilizationRate", 25),
                     clients=("hwWlanRadioOnlineStaCnt", 40)),
        ap_up=frozenset({8}),  # normal(8)
        ap_down=frozenset({1, 4, 6, 10}),  # idle, fault, configFailed, commitFailed
        radio_up=frozenset({1}),
        bands={1: "2.4GHz", 2: "5GHz", 3: "6GHz"},
        widths_mhz={1: 20, 2: 40, 3: 40, 4: 80, 5: 160},
        aps_total=Obj("HUAWEI-WLAN-GLOBAL-MIB", "hwWlanCurJointApNum",
                      oid_from_str("1.3.6.1.4.1.2011.6.139.12.1.2.1")),
        clients_total=Obj("HUAWEI-WLAN-GLOBAL-MIB", "hwWlanCurAssocStaNum",
                          oid_from_str("1.3.6.1.4.1.2011.6.139.12.1.2.2")),
    ),
    WlanMap(
        "h3c", frozenset({"H3C", "HPE"}), "docs/standards.md#e-3 HH3C-DOT11-APMT-MIB",
        ap={**_ap("HH3C-DOT11-APMT-MIB", _H3C_OBJECT, name=("hh3cDot11CurrAPName", 8),
                  model=("hh3cDot11CurrAPModelName", 9),
                  firmware=("hh3cDot11CurrAPSoftwareVersion", 11),
                  clients=("hh3cDot11CurrAPStationAssocCount", 7)),
            **_ap("HH3C-DOT11-APMT-MIB", _H3C_STATUS, ipv4=("hh3cDot11APIPAddress", 2),
                  mac=("hh3cDot11APMacAddress", 3), state=("hh3cDot11APOperationStatus", 4),
                  ipv6=("hh3cDot11APIPv6Address", 10))},
        radio=_radio("HH3C-DOT11-APMT-MIB", _H3C_RADIO, state=("hh3cDot11OperStatus", 4),
                     channel=("hh3cDot11Channel", 5),
                     utilization=("hh3cDot11ResourceUseRatio", 10)),
        ap_up=frozenset({5}),  # run(5): WLAN service ready; join..config are transitions
        radio_up=frozenset({1}),
        aps_total=Obj("HH3C-DOT11-ACMT-MIB", "hh3cDot11APConnectCount",
                      oid_from_str("1.3.6.1.4.1.25506.2.75.1.1.2.1")),
        clients_total=Obj("HH3C-DOT11-ACMT-MIB", "hh3cDot11StationConnectCount",
                          oid_from_str("1.3.6.1.4.1.25506.2.75.1.1.2.2")),
    ),
    WlanMap(
        # docs/standards.md#e-4: from public code, not locally verified.
        "ruijie", frozenset({"Ruijie"}),
        "docs/standards.md#e-4 RUIJIE-AC-MGMT-MIB (not verified)",
        ap=_ap("RUIJIE-AC-MGMT-MIB", _RUIJIE_AP, name=("ruijieApApName", 2),
               mac=("ruijieApMacAddr", 1), serial=("ruijieApApSn", 32),
               ipv4=("ruijieApApIp", 33), clients=("ruijieApStaNum", 34),
               firmware=("ruijieApSwVer", 37), model=("ruijieApPID", 39),
               state=("ruijieApState", 48)),
        ap_up=frozenset({1}), ap_down=frozenset({2}),
    ),
    WlanMap(
        "airespace", frozenset({"Cisco"}), "docs/standards.md#e-5 AIRESPACE-WIRELESS-MIB",
        ap=_ap(_BSN, _BSN_AP, name=("bsnAPName", 3), mac=("bsnAPDot3MacAddress", 1),
               state=("bsnAPOperationStatus", 6), model=("bsnAPModel", 16),
               ipv4=("bsnApIpAddress", 19)),
        radio={**_radio(_BSN, _BSN_RADIO, band=("bsnAPIfType", 2),
                        channel=("bsnAPIfPhyChannelNumber", 4),
                        state=("bsnAPIfOperStatus", 12), clients=("bsnApIfNoOfUsers", 15)),
               **_radio(_BSN, _BSN_LOAD, utilization=("bsnAPIfLoadChannelUtilization", 3))},
        ap_up=frozenset({1}), ap_down=frozenset({2}),  # associated(1), disassociating(2)
        radio_up=frozenset({2}),  # down(1) up(2)
        bands={1: "2.4GHz", 2: "5GHz", 6: "6GHz"},
    ),
    WlanMap(
        "lwapp", frozenset({"Cisco"}), "docs/standards.md#e-5 CISCO-LWAPP-AP-MIB",
        ap=_ap("CISCO-LWAPP-AP-MIB", _LWAPP_AP, name=("cLApName", 5),
               mac=("cLApIfMacAddress", 2), uptime=("cLApUpTime", 6),
               clients=("cLApActiveClientCount", 72)),
        listed_means_up=True,  # cLApTable lists the APs joined to the controller
    ),
    WlanMap(
        "wlsx", frozenset({"Aruba"}), "docs/standards.md#e-5 WLSX-WLAN-MIB",
        ap=_ap(_WLSX, _WLSX_AP, name=("wlanAPName", 3), mac=("wlanAPMacAddress", 1),
               ipv4=("wlanAPIpAddress", 2), uptime=("wlanAPUpTime", 12),
               model=("wlanAPModelName", 13), state=("wlanAPStatus", 19)),
        radio=_radio(_WLSX, _WLSX_RADIO, channel=("wlanAPRadioChannel", 3),
                     utilization=("wlanAPRadioUtilization", 6),
                     clients=("wlanAPRadioNumAssociatedClients", 7)),
        ap_up=frozenset({1}), ap_down=frozenset({2}),
        aps_total=Obj(_WLSX, "wlsxWlanTotalNumAccessPoints",
                      oid_from_str("1.3.6.1.4.1.14823.2.2.1.5.2.1.1")),
        clients_total=Obj(_WLSX, "wlsxWlanTotalNumStationsAssociated",
                          oid_from_str("1.3.6.1.4.1.14823.2.2.1.5.2.1.2")),
    ),
    WlanMap(
        # Aruba Instant virtual controller (AI-AP-MIB), not in docs/standards.md: columns checked
        # against the aruba-instant_105 recording (MAC, name, IP, serial, model, uptime, status).
        "aruba-instant", frozenset({"Aruba"}), "AI-AP-MIB aiAccessPointTable (recording)",
        ap=_ap("AI-AP-MIB", _AI_AP, name=("aiAPName", 2), mac=("aiAPMACAddress", 1),
               ipv4=("aiAPIPAddress", 3), serial=("aiAPSerialNum", 4),
               model=("aiAPModelName", 6), uptime=("aiAPUptime", 9), state=("aiAPStatus", 11)),
        ap_up=frozenset({1}), ap_down=frozenset({2}),
    ),
)


def maps_for(vendor: str) -> list[WlanMap]:
    return [m for m in WLAN_MAPS if vendor in m.vendors]


@dataclass(frozen=True, slots=True)
class Radio:
    radio: str
    band: str
    up: bool | None
    channel: int | None
    width_mhz: int | None
    utilization_percent: float | None
    clients: int | None


@dataclass(frozen=True, slots=True)
class AccessPoint:
    key: Oid
    name: str
    mac: str
    model: str
    serial: str
    firmware: str
    ipv4: str
    ipv6: str
    state: ApState
    uptime_s: float | None
    clients: int | None
    radios: tuple[Radio, ...] = ()


@dataclass(frozen=True, slots=True)
class Controller:
    aps: tuple[AccessPoint, ...]
    aps_total: int | None  # the controller's own count, when it has one
    clients_total: int | None

    @property
    def aps_up(self) -> int:
        return sum(1 for a in self.aps if a.state is ApState.UP)

    @property
    def clients(self) -> int:
        if self.clients_total is not None:
            return self.clients_total
        return sum(a.clients or 0 for a in self.aps)


def band_from_channel(channel: int | None) -> str:
    """2.4 GHz channels are 1–14; otherwise assume 5 GHz (6 GHz needs the band column)."""
    if channel is None or channel <= 0:
        return ""
    return "2.4GHz" if channel <= 14 else "5GHz"


def _state(m: WlanMap, row: Row) -> ApState:
    col = m.ap.get(ApField.STATE)
    code = number(row.get(col)) if col is not None else None
    if code is None:
        return ApState.UP if m.listed_means_up else ApState.OTHER
    if code in m.ap_up:
        return ApState.UP
    if code in m.ap_down:
        return ApState.DOWN
    return ApState.OTHER


def _radio_of(m: WlanMap, ap_key: Oid, row: Row) -> Radio:
    def cell(f: RadioField) -> int | None:
        col = m.radio.get(f)
        return number(row.get(col)) if col is not None else None

    channel = cell(RadioField.CHANNEL)
    band_code = cell(RadioField.BAND)
    band = m.bands.get(band_code, "") if band_code is not None else ""
    state = cell(RadioField.STATE)
    width = cell(RadioField.WIDTH)
    util = cell(RadioField.UTILIZATION)
    return Radio(
        radio=".".join(map(str, row.index[len(ap_key):])),
        band=band or band_from_channel(channel),
        up=None if state is None else state in m.radio_up,
        channel=channel,
        width_mhz=m.widths_mhz.get(width) if width is not None else None,
        utilization_percent=None if util is None else float(util),
        clients=cell(RadioField.CLIENTS),
    )


def build_controller(m: WlanMap, ap_rows: Mapping[Oid, Row], radio_rows: Mapping[Oid, Row],
                     aps_total: int | None, clients_total: int | None) -> Controller:
    aps = []
    for key, row in ap_rows.items():
        def t(f: ApField, r: Row = row) -> str:
            col = m.ap.get(f)
            return text(r.get(col)) if col is not None else ""

        mac_col = m.ap.get(ApField.MAC)
        ap_mac = mac_of(row.get(mac_col)) if mac_col is not None else ""
        if not ap_mac:
            ap_mac = mac_from_index(key) or ""  # tables indexed by the AP MAC
        ipv4_col, ipv6_col = m.ap.get(ApField.IPV4), m.ap.get(ApField.IPV6)
        up_col, cl_col = m.ap.get(ApField.UPTIME), m.ap.get(ApField.CLIENTS)
        radios = tuple(_radio_of(m, key, r) for idx, r in radio_rows.items()
                       if len(idx) > len(key) and idx[: len(key)] == key)
        aps.append(AccessPoint(
            key=key, name=t(ApField.NAME), mac=ap_mac, model=t(ApField.MODEL),
            serial=t(ApField.SERIAL), firmware=t(ApField.FIRMWARE),
            ipv4=ip_of(row.get(ipv4_col)) if ipv4_col is not None else "",
            ipv6=ip_of(row.get(ipv6_col)) if ipv6_col is not None else "",
            state=_state(m, row),
            uptime_s=seconds(row.get(up_col)) if up_col is not None else None,
            clients=number(row.get(cl_col)) if cl_col is not None else None,
            radios=radios,
        ))
    return Controller(tuple(aps), aps_total, clients_total)
