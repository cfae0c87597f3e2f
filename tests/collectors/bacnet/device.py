"""A BACnet/IP device for tests: a bacpypes3 application on loopback, in a process of its own
(stopped and started again on the same port by the outage tests).

    python -m tests.collectors.bacnet.device --port N --instance I

Its objects are `OBJECTS` below (so tests know what the far side serves): an air handler's
zone temperature, supply air (out of service: its status flag set), fan run status, a
multi-state mode, a character-string value (not a reading: set aside, counted) and
`analog-value,9`, whose value steps by 1 every 0.3 s (for COV).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bacpypes3.app import Application
from bacpypes3.argparse import SimpleArgumentParser
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObject
from bacpypes3.local.binary import BinaryValueObject
from bacpypes3.local.multistate import MultiStateValueObject
from bacpypes3.local.object import Object as LocalObject
from bacpypes3.object import CharacterStringValueObject as _CharacterStringValue


class CharacterStringValueObject(LocalObject, _CharacterStringValue):  # type: ignore[misc]
    """bacpypes3 ships no local character-string value object: the usual mixin."""

OBJECTS: dict[str, dict[str, Any]] = {
    "analog-value,1": {"objectName": "zone-temp", "presentValue": 21.5,
                       "units": "degreesCelsius", "statusFlags": [0, 0, 0, 0]},
    "analog-input,2": {"objectName": "supply-air", "presentValue": 16.25,
                       "units": "degreesCelsius", "outOfService": True},
    "binary-value,3": {"objectName": "fan-run", "presentValue": "active",
                       "statusFlags": [0, 0, 0, 0]},
    "multi-state-value,4": {"objectName": "mode", "presentValue": 3, "numberOfStates": 4,
                            "statusFlags": [0, 0, 0, 0]},
    "characterstring-value,5": {"objectName": "note", "presentValue": "filter due",
                                "statusFlags": [0, 0, 0, 0]},
    "analog-value,9": {"objectName": "counter", "presentValue": 0.0, "units": "noUnits",
                       "statusFlags": [0, 0, 0, 0], "covIncrement": 0.5},
}
_CLASSES = {"analog-value": AnalogValueObject, "analog-input": AnalogInputObject,
            "binary-value": BinaryValueObject, "multi-state-value": MultiStateValueObject,
            "characterstring-value": CharacterStringValueObject}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--instance", type=int, required=True)
    a = ap.parse_args()
    logging.getLogger("bacpypes3").setLevel(logging.CRITICAL)
    args = SimpleArgumentParser().parse_args([
        "--address", f"127.0.0.1/8:{a.port}", "--instance", str(a.instance), "--name", "ahu"])
    app = Application.from_args(args)
    objs = {}
    for oid, props in OBJECTS.items():
        kind, inst = oid.split(",")
        objs[oid] = _CLASSES[kind](objectIdentifier=(kind, int(inst)), **props)
        app.add_object(objs[oid])
    print("ready", flush=True)
    step = objs["analog-value,9"]
    while True:
        await asyncio.sleep(0.3)
        step.presentValue = float(step.presentValue) + 1.0


if __name__ == "__main__":
    asyncio.run(main())
