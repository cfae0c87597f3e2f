"""Constrained devices over CoAP (aiocoap): GET/Observe, JSON/CBOR/SenML."""

from collectors.coap.plugin import SPEC

__all__ = ["SPEC"]
