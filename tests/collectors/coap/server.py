"""A CoAP device for tests: aiocoap's own server, in a process of its own (stopped and started
again on the same port by the outage tests).

    python -m tests.collectors.coap.server --port N

Resources (the values are `SERVED` below, so tests know what the far side served):
/sensors/env (JSON, observable: notifies every 0.2 s with `count` one higher), /sensors/air
(CBOR), /senml (SenML+JSON, the RFC 8428 5.1.2 example), /senml-cbor (the same in
SenML+CBOR, integer labels), /text (text/plain), /bad (CBOR content format, bytes that are not
CBOR).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Any

import aiocoap
import aiocoap.resource as resource
import cbor2

SENML = [{"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
         {"n": "current", "u": "A", "v": 1.2}]
SERVED: dict[str, Any] = {
    "/sensors/env": {"temperature": 22.5, "humidity": 41, "door": {"open": False}},
    "/sensors/air": {"co2_ppm": 612, "pm25_ugm3": 8.5},
    "/senml": SENML,
    "/text": "23.25",
}


class Fixed(resource.Resource):  # type: ignore[misc]
    def __init__(self, payload: bytes, cf: int) -> None:
        super().__init__()
        self.payload, self.cf = payload, cf

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        return aiocoap.Message(payload=self.payload, content_format=self.cf)


class Env(resource.ObservableResource):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.handle: asyncio.TimerHandle | None = None
        self.reschedule()

    def reschedule(self) -> None:
        self.handle = asyncio.get_event_loop().call_later(0.2, self.notify)

    def notify(self) -> None:
        self.count += 1
        self.updated_state()
        self.reschedule()

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        body = {**SERVED["/sensors/env"], "count": self.count}
        return aiocoap.Message(payload=json.dumps(body).encode(), content_format=50)


def site() -> resource.Site:
    s = resource.Site()
    s.add_resource(["sensors", "env"], Env())
    s.add_resource(["sensors", "air"], Fixed(cbor2.dumps(SERVED["/sensors/air"]), 60))
    s.add_resource(["senml"], Fixed(json.dumps(SENML).encode(), 110))
    labels = {"bn": -2, "n": 0, "u": 1, "v": 2}
    s.add_resource(["senml-cbor"], Fixed(cbor2.dumps(
        [{labels[k]: v for k, v in rec.items()} for rec in SENML]), 112))
    s.add_resource(["text"], Fixed(SERVED["/text"].encode(), 0))
    s.add_resource(["bad"], Fixed(b"\xff\xfe\x9f not cbor", 60))
    return s


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    logging.getLogger("coap-server").setLevel(logging.CRITICAL)
    await aiocoap.Context.create_server_context(site(), bind=("127.0.0.1", args.port))
    print("ready", flush=True)
    await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main())
