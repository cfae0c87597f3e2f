"""The scheduled `enrolment` plugin: the `campusmon enrol` scan on every tick, as events.

- a managed device (it answers SNMP with one of our credential sets) the inventory lacks →
  `unregistered_device` raised on every scan while it answers (the existing alert rule
  deduplicates and pages on it), resolved when it is gone;
- an inventory device whose facts changed (serial, firmware, address, parent …) →
  `managed_device_changed` observed, once per new set of differences;
- an inventory device seen by an earlier run and not by this one → `managed_device_vanished`
  raised, resolved when it answers again.
The scan's figures go to `enrolment_scan`. The framework's `timeout_secs` must exceed the
scan's own `deadline_secs` (the scan stops itself there and reports what it did not reach).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from agent.core.catalogue import Measurement, counter, gauge
from agent.core.errors import CollectError, ConfigError
from agent.core.model import ErrorType, Event, EventState, Item, Metric, Severity
from agent.core.plugin import BuildContext, DefaultTargets, PluginKind, PluginSpec, Target
from collectors.snmp.enrol.cli import register as register_cli
from collectors.snmp.enrol.config import EnrolConfig
from collectors.snmp.enrol.proposal import Enrolled, Proposal
from collectors.snmp.enrol.run import enrol
from collectors.snmp.enrol.scan import ScanError, ordered_credentials
from config.credentials import Credential
from inventory.models import Inventory

MEASUREMENTS = (
    Measurement("enrolment_scan", "One scheduled enrolment scan of the configured prefixes",
                fields=(
                    gauge("addresses", "", "addresses swept or crawled"),
                    gauge("responders", "", "devices that answered SNMP with a set"),
                    gauge("new_devices", "", "managed devices the inventory lacks"),
                    gauge("changed_devices", "", "inventory devices with changed facts"),
                    gauge("not_seen_devices", "", "inventory devices in the prefixes not seen"),
                    gauge("conflicts", "", "disputed addresses or identities"),
                    gauge("not_scanned", "", "addresses the deadline left out"),
                    counter("requests_total", "", "SNMP probe requests the sweeps sent since "
                            "the agent started"),
                    gauge("duration_seconds", "seconds", "the scan's wall time"),
                )),
)


class EnrolmentPoller:
    def __init__(self, cfg: EnrolConfig, credentials: dict[str, Credential],
                 inventory: Inventory) -> None:
        self.cfg = cfg
        self.credentials = credentials
        self.inventory = inventory
        self._rogues: dict[str, Enrolled] = {}  # raised unregistered_device, by key
        self._seen_before: set[str] = set()  # inventory ids some run saw
        self._vanished: set[str] = set()
        self._changes: dict[str, frozenset[tuple[str, str]]] = {}
        self._requests = 0  # the counter's running total

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def poll(self, target: Target) -> Sequence[Item]:
        try:
            scan, proposal = await enrol(self.cfg, self.credentials, self.inventory,
                                         self.cfg.subnets)
        except ScanError as exc:
            raise CollectError(ErrorType.INTERNAL, f"enrolment: {exc}") from None
        self._requests += scan.requests
        items: list[Item] = [Metric("enrolment_scan", {}, {
            "addresses": len(scan.contacted), "responders": len(scan.found),
            "new_devices": len(proposal.new),
            "changed_devices": len({c.device for c in proposal.changes}),
            "not_seen_devices": len(proposal.not_seen), "conflicts": len(proposal.conflicts),
            "not_scanned": len(scan.not_scanned), "requests_total": self._requests,
            "duration_seconds": scan.duration_s}, time.time_ns())]
        items += self._events(proposal)
        return items

    def _events(self, p: Proposal) -> list[Event]:
        out: list[Event] = []
        rogues = {_rogue_key(e): e for e in p.new}
        # raised on every scan while the device answers: the alert rule deduplicates by key
        # and resolves a fact not repeated within its auto_resolve_secs
        for key, e in rogues.items():
            f = e.found
            out.append(Event(
                key, "unregistered_device", EventState.RAISED, Severity.WARNING,
                f"unregistered managed device {f.sys_name or '?'} ({f.vendor} {f.model}, "
                f"serial {f.serial or '-'}) at {f.address}, answering credential set "
                f"{f.credential}", labels={
                    "mac": f.chassis_mac or "", "vendor": f.vendor, "ipv4": ",".join(
                        a for a in (f.address, *f.ipv4) if ":" not in a),
                    "ipv6": ",".join(f.ipv6), "source": "enrolment", "sys_name": f.sys_name,
                    "serial": f.serial, "model": f.model}))
        for key, e in self._rogues.items():
            if key not in rogues:
                out.append(Event(key, "unregistered_device", EventState.RESOLVED,
                                 Severity.WARNING, f"{e.found.sys_name or e.found.address} "
                                 "no longer answers", labels={"source": "enrolment"}))
        self._rogues = rogues
        by_dev: dict[str, set[tuple[str, str]]] = {}
        for c in p.changes:
            by_dev.setdefault(c.device, set()).add((c.field, c.new))
        for dev, diff in by_dev.items():
            frozen = frozenset(diff)
            if self._changes.get(dev) == frozen:
                continue
            self._changes[dev] = frozen
            text = ", ".join(f"{c.field} {c.old or '-'} → {c.new}" for c in p.changes
                             if c.device == dev)
            out.append(Event(f"enrol:changed:{dev}", "managed_device_changed",
                             EventState.OBSERVED, Severity.INFO, f"{dev}: {text}", device=dev,
                             labels={"source": "enrolment"}))
        for dev in set(self._changes) - set(by_dev):
            del self._changes[dev]
        seen = {e.matched for e in p.enrolled if e.matched}
        missing = {n.device for n in p.not_seen}
        for dev in sorted((self._seen_before & missing) - self._vanished):
            out.append(Event(f"enrol:vanished:{dev}", "managed_device_vanished",
                             EventState.RAISED, Severity.WARNING,
                             f"{dev} no longer answers the enrolment scan", device=dev,
                             labels={"source": "enrolment"}))
            self._vanished.add(dev)
        for dev in sorted(self._vanished & seen):
            out.append(Event(f"enrol:vanished:{dev}", "managed_device_vanished",
                             EventState.RESOLVED, Severity.WARNING, f"{dev} answers again",
                             device=dev, labels={"source": "enrolment"}))
            self._vanished.discard(dev)
        self._seen_before |= seen
        return out


def _rogue_key(e: Enrolled) -> str:
    f = e.found
    return f"enrol:unregistered:{f.serial or f.chassis_mac or f.address}"


def build(cfg: EnrolConfig, ctx: BuildContext) -> EnrolmentPoller:
    if not cfg.subnets:
        raise ConfigError.one(f"inputs {ctx.instance}", "subnets: give at least one prefix "
                              "to scan")
    try:
        ordered_credentials(cfg, ctx.credentials)
    except ScanError as exc:
        raise ConfigError.one(f"inputs {ctx.instance}", str(exc)) from None
    return EnrolmentPoller(cfg, dict(ctx.credentials), ctx.inventory)


SPEC = PluginSpec(
    name="enrolment", kind=PluginKind.POLLER, config_model=EnrolConfig, build=build,
    description="scheduled enrolment scan (SNMP sweep + LLDP/CDP crawl, credential sets in "
                "order): events for unregistered, changed and vanished managed devices",
    example={"type": "enrolment", "interval_secs": 3600, "timeout_secs": 600,
             "subnets": ["10.20.0.0/24", "2001:db8:20::/120"], "exclude": ["10.20.0.1/32"],
             "deadline_secs": 500},
    default_targets=DefaultTargets.SELF,
    measurements=MEASUREMENTS,
    cli=register_cli,
)
