"""Plain-text CoAP payloads: a number the agent can store, or a bad payload."""

from __future__ import annotations

import pytest

from collectors.coap.payloads import TEXT, BadPayload, decode


def test_text_number_is_read() -> None:
    assert decode(TEXT, b" 21.5 ") == {"value": 21.5}
    assert decode(TEXT, b"-7") == {"value": -7}


@pytest.mark.parametrize("payload", [b"9" * 400, b"inf", b"nan", b"1e999", b"x"])
def test_text_out_of_range_or_garbage_is_a_bad_payload(payload: bytes) -> None:
    with pytest.raises(BadPayload):
        decode(TEXT, payload)
