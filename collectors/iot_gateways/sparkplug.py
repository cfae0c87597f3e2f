"""Sparkplug B (Eclipse Sparkplug 3.0): edge nodes and their devices, as a host application
sees them.

Topics `spBv1.0/<group>/<NBIRTH|NDEATH|NDATA|DBIRTH|DDEATH|DDATA|NCMD|DCMD>/<edge node>[/<device>]`.
- NBIRTH (seq 0) declares the node's metrics with their aliases and its `bdSeq`; DBIRTH a
  device's. Later DATA may name a metric by alias only.
- NDEATH is the node's MQTT will, carrying the `bdSeq` of the session it ends: a death whose
  bdSeq is not the current birth's is an old session's and is ignored. A node's death takes
  its devices with it.
- Every message of a node carries `seq`, 0–255 wrapping, one more than the previous one. A gap,
  DATA before any BIRTH, or an alias never born means we missed something: the host asks for a
  rebirth (NCMD `Node Control/Rebirth` = true), at most once per `rebirth_min_interval_s`.
Pure: the listener publishes the rebirth requests this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.core.model import FieldValue, Metric
from collectors.iot_gateways.client import BadFrame, SpMetric, SpPayload, decode_sparkplug
from collectors.iot_gateways.common import (
    MAX_FIELDS,
    NAMESPACE,
    BadPayload,
    BadReason,
    Heard,
    Life,
    field_name,
)

REBIRTH_METRIC = "Node Control/Rebirth"
BOOLEAN = 11  # Sparkplug DataType Boolean
_SIGNED = {1: 8, 2: 16, 3: 32, 4: 64}  # Int8..Int64 travel as two's complement unsigned
_CONTROL = ("Node Control/", "Device Control/", "Properties/")


@dataclass(slots=True)
class NodeState:
    bd_seq: int | None = None
    seq: int | None = None
    born: bool = False
    aliases: dict[int, str] = field(default_factory=dict)  # node metrics
    device_aliases: dict[str, dict[int, str]] = field(default_factory=dict)
    devices: set[str] = field(default_factory=set)  # devices born in this session
    last_rebirth_mono: float | None = None
    births: int = 0
    deaths: int = 0
    stale_deaths: int = 0
    seq_gaps: int = 0
    rebirths: int = 0


@dataclass(slots=True)
class Outcome:
    heard: list[Heard] = field(default_factory=list)
    rebirth_topic: str | None = None  # publish a rebirth request here
    problem: BadPayload | None = None  # counted; the message may still have given readings


def node_key(group: str, node: str) -> str:
    return f"{group}/{node}"


def rebirth_request(now_ms: int) -> SpPayload:
    return SpPayload(timestamp=now_ms, metrics=[
        SpMetric(name=REBIRTH_METRIC, datatype=BOOLEAN, value=True, timestamp=now_ms)])


def _value(m: SpMetric) -> FieldValue | None:
    v = m.value
    if m.is_null or v is None or isinstance(v, str | bytes):
        return None
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int) and m.datatype in _SIGNED:
        bits = _SIGNED[m.datatype]
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >= 1 << (bits - 1) else v
    if isinstance(v, float) and v != v:  # NaN
        return None
    return v


class Sparkplug:
    def __init__(self, rebirth_min_interval_s: float = 10.0) -> None:
        self.nodes: dict[str, NodeState] = {}
        self.rebirth_min_interval_s = rebirth_min_interval_s

    def handle(self, levels: list[str], data: bytes, ts_ns: int, now_mono: float) -> Outcome:
        """`levels`: the topic split at '/', starting with the namespace."""
        out = Outcome()
        if len(levels) not in (4, 5):
            out.problem = BadPayload(BadReason.SCHEMA, "not a Sparkplug B topic")
            return out
        _, group, mtype, node = levels[:4]
        device = levels[4] if len(levels) == 5 else None
        if mtype in ("NCMD", "DCMD", "STATE"):
            return out  # commands to nodes (our own rebirth requests among them)
        try:
            p = decode_sparkplug(data)
        except BadFrame as exc:
            out.problem = BadPayload(BadReason.PROTOBUF, str(exc))
            return out
        key = node_key(group, node)
        st = self.nodes.setdefault(key, NodeState())
        if mtype == "NDEATH":
            self._death(st, key, p, ts_ns, out)
            return out
        if mtype == "NBIRTH":
            st.born, st.seq, st.births = True, p.seq, st.births + 1
            st.bd_seq = next((int(m.value) for m in p.metrics if m.name == "bdSeq"
                              and isinstance(m.value, int)), None)
            st.aliases = {m.alias: m.name for m in p.metrics
                          if m.alias is not None and m.name}
            st.device_aliases.clear()
            st.devices.clear()
            if p.seq not in (0, None):
                st.seq_gaps += 1  # a birth starts at 0; tolerated, counted
            out.heard.append(Heard(key, Life.DATA, self._readings(p, st.aliases, ts_ns, out)))
            return out
        # every other message continues the node's sequence
        if not st.born:
            out.problem = BadPayload(BadReason.SEQUENCE, f"{mtype} from {key} before NBIRTH")
            self._ask_rebirth(st, group, node, now_mono, out)
        elif p.seq is not None and st.seq is not None and p.seq != (st.seq + 1) % 256:
            st.seq_gaps += 1
            out.problem = BadPayload(BadReason.SEQUENCE, f"{key}: seq {p.seq} after {st.seq}")
            self._ask_rebirth(st, group, node, now_mono, out)
        if p.seq is not None:
            st.seq = p.seq
        if mtype == "NDATA":
            out.heard.append(Heard(key, Life.DATA, self._readings(p, st.aliases, ts_ns, out,
                                                                 st, group, node, now_mono)))
        elif device is None:
            out.problem = out.problem or BadPayload(BadReason.SCHEMA, f"{mtype} without device")
        elif mtype == "DBIRTH":
            st.devices.add(device)
            st.device_aliases[device] = {m.alias: m.name for m in p.metrics
                                         if m.alias is not None and m.name}
            dkey = f"{key}/{device}"
            out.heard.append(Heard(key, Life.DATA, implied=True))
            out.heard.append(Heard(dkey, Life.DATA, self._readings(
                p, st.device_aliases[device], ts_ns, out)))
        elif mtype == "DDATA":
            aliases = st.device_aliases.get(device)
            if aliases is None and st.born:
                out.problem = out.problem or BadPayload(
                    BadReason.SEQUENCE, f"DDATA from {key}/{device} before its DBIRTH")
                self._ask_rebirth(st, group, node, now_mono, out)
            out.heard.append(Heard(key, Life.DATA, implied=True))
            out.heard.append(Heard(f"{key}/{device}", Life.DATA, self._readings(
                p, aliases or {}, ts_ns, out, st, group, node, now_mono)))
        elif mtype == "DDEATH":
            st.devices.discard(device)
            out.heard.append(Heard(key, Life.DATA, implied=True))
            out.heard.append(Heard(f"{key}/{device}", Life.OFFLINE, detail="Sparkplug DDEATH"))
        else:
            out.problem = out.problem or BadPayload(BadReason.SCHEMA,
                                                    f"unknown message type {mtype}")
        return out

    def _death(self, st: NodeState, key: str, p: SpPayload, ts_ns: int, out: Outcome) -> None:
        bd = next((int(m.value) for m in p.metrics if m.name == "bdSeq"
                   and isinstance(m.value, int)), None)
        if st.bd_seq is not None and bd is not None and bd != st.bd_seq:
            st.stale_deaths += 1  # the will of an older session, delivered late
            return
        st.deaths += 1
        st.born = False
        out.heard.append(Heard(key, Life.OFFLINE, detail="Sparkplug NDEATH"))
        for d in sorted(st.devices):
            out.heard.append(Heard(f"{key}/{d}", Life.OFFLINE, detail="its edge node died"))
        st.devices.clear()

    def _ask_rebirth(self, st: NodeState, group: str, node: str, now_mono: float,
                     out: Outcome) -> None:
        if (st.last_rebirth_mono is not None
                and now_mono - st.last_rebirth_mono < self.rebirth_min_interval_s):
            return
        st.last_rebirth_mono = now_mono
        st.rebirths += 1
        out.rebirth_topic = f"{NAMESPACE}/{group}/NCMD/{node}"

    def _readings(self, p: SpPayload, aliases: dict[int, str], ts_ns: int, out: Outcome,
                  st: NodeState | None = None, group: str = "", node: str = "",
                  now_mono: float = 0.0) -> list[Metric]:
        fields: dict[str, FieldValue] = {}
        unknown = 0
        for m in p.metrics:
            if m.is_historical:
                continue  # history replays; the store has the live value already
            name = m.name or (aliases.get(m.alias) if m.alias is not None else None)
            if name is None:
                unknown += 1
                continue
            if name == "bdSeq" or name.startswith(_CONTROL):
                continue
            v = _value(m)
            if v is not None and len(fields) < MAX_FIELDS:
                fields[field_name(name)] = v
        if unknown and st is not None:
            out.problem = out.problem or BadPayload(
                BadReason.SEQUENCE, f"{unknown} metric(s) with an alias never born")
            self._ask_rebirth(st, group, node, now_mono, out)
        return [Metric("sparkplug_reading", {}, fields, ts_ns)] if fields else []
