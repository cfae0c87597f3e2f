"""Turn a target selector into concrete targets from the inventory and static entries.

In config/ (not the framework) because check-config warns about selectors that match nothing
while loading; the runtime uses the same function."""

from __future__ import annotations

from agent.core.plugin import DefaultTargets, PluginSpec, Target
from config.models import TargetSelector
from inventory.models import Inventory


def select_targets(
    selector: TargetSelector | None, inventory: Inventory, spec: PluginSpec
) -> list[Target]:
    if selector is None:
        if spec.default_targets != DefaultTargets.INVENTORY:
            return []
        selector = TargetSelector()
    out: list[Target] = []
    if selector.inventory:
        for d in inventory.devices:
            if selector.kinds and d.kind not in selector.kinds:
                continue
            if selector.roles and not d.roles.intersection(selector.roles):
                continue
            if selector.devices and d.id not in selector.devices:
                continue
            if selector.buildings and d.building not in selector.buildings:
                continue
            if selector.services and not d.services.intersection(selector.services):
                continue
            out.append(Target(
                id=d.id, device=d, ipv4=d.ipv4, ipv6=d.ipv6, hostname=d.hostname,
                credential=d.credential,
            ))
    for s in selector.static:
        out.append(Target(
            id=s.id, ipv4=s.ipv4, ipv6=s.ipv6, hostname=s.hostname, port=s.port,
            credential=s.credential, labels=dict(s.labels),
        ))
    return out
