"""The subscriber's own decoding of QoS 0 PUBLISH packets (collectors/mqtt/client.py,
`_BufferedClient._packet_read`): whole packets in the read buffer are handed on directly,
anything else — QoS 1/2, other packet types, a packet cut at the buffer's end, a malformed
length, an MQTT 5 topic alias — is left to paho, byte for byte where it stopped. The live path
(a real mosquitto, MQTT 3.1.1 and 5, TLS) is covered by the other tests in this folder; here
hand-built buffers reach the cases a broker never sends."""

from __future__ import annotations

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from collectors.mqtt.client import BrokerOptions, Subscriber, _BufferedClient
from collectors.mqtt.handover import Received


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 127, n >> 7
        out.append(b | (128 if n else 0))
        if not n:
            return bytes(out)


def publish(topic: bytes, payload: bytes, *, qos: int = 0, retain: bool = False,
            props: bytes | None = None) -> bytes:
    var = len(topic).to_bytes(2, "big") + topic
    if qos:
        var += (7).to_bytes(2, "big")  # packet id
    if props is not None:  # MQTT 5
        var += _varint(len(props)) + props
    body = var + payload
    return bytes([0x30 | qos << 1 | int(retain)]) + _varint(len(body)) + body


def client(v5: bool = False) -> tuple[_BufferedClient, list[tuple[bytes, bytes, bool]]]:
    c = _BufferedClient(CallbackAPIVersion.VERSION2, client_id="t",
                        protocol=paho.MQTTv5 if v5 else paho.MQTTv311)
    got: list[tuple[bytes, bytes, bool]] = []

    def deliver(batch: list[Received], undecodable: int) -> None:
        assert batch and undecodable == 0  # one call per buffer, only when it held some
        got.extend((m.topic.encode(), m.payload, m.retained) for m in batch)
        assert all(type(m) is Received and m.qos == 0 for m in batch)

    c.fast_publish = deliver
    return c, got


def test_whole_qos0_packets_are_decoded_and_the_rest_left_where_it_starts() -> None:
    c, got = client()
    big = b"x" * 300  # a two-byte remaining length
    qos1 = publish(b"a/q1", b"{}", qos=1)
    c._rbuf = (publish(b"campus/b1/env/d1/telemetry", b'{"t":1}', retain=True)
               + publish(b"a/b", big) + qos1 + publish(b"a/c", b"late"))
    assert c._fast_publishes(c.fast_publish) == 2  # type: ignore[arg-type]
    assert got == [(b"campus/b1/env/d1/telemetry", b'{"t":1}', True), (b"a/b", big, False)]
    assert c._rbuf[c._rpos:].startswith(qos1)  # paho reads the QoS 1 packet (and acks it)


def test_a_cut_packet_a_bad_length_and_other_packets_go_to_paho() -> None:
    whole = publish(b"a/b", b"payload")
    for buf in (whole[:-1],                      # cut at the buffer's end
                whole[:1] + b"\xff\xff\xff\xff\x01",  # a length of over 4 bytes
                bytes([0x30, 5, 0, 9]) + b"abc",  # topic longer than the packet
                bytes([0xD0, 0]),                # PINGRESP
                publish(b"", b"aliased")):       # MQTT 3 forbids it, MQTT 5 topic alias
        c, got = client()
        c._rbuf = buf
        assert c._fast_publishes(c.fast_publish) == 0  # type: ignore[arg-type]
        assert got == [] and c._rpos == 0


def test_mqtt5_properties_are_skipped() -> None:
    c, got = client(v5=True)
    props = bytes([0x01, 1, 0x23, 0, 5])  # payload format indicator, topic alias 5
    c._rbuf = publish(b"a/b", b"v5 payload", props=props) + publish(b"a/c", b"2", props=b"")
    assert c._fast_publishes(c.fast_publish) == 2  # type: ignore[arg-type]
    assert got == [(b"a/b", b"v5 payload", False), (b"a/c", b"2", False)]


def test_a_topic_that_is_not_utf8_is_counted_and_dropped() -> None:
    delivered: list[Received] = []
    sub = Subscriber(BrokerOptions("127.0.0.1", 1, "t", protocol="3.1.1"), [("a/#", 0)],
                     delivered.append)
    try:
        c = sub._client
        assert isinstance(c, _BufferedClient) and c.fast_publish is not None
        c._rbuf = publish(b"a/\xff", b"1") + publish(b"a/ok", b"2")
        assert c._fast_publishes(c.fast_publish) == 2
        assert sub.stats.undecodable == 1
        assert [(m.topic, m.payload, m.qos) for m in delivered] == [("a/ok", b"2", 0)]
    finally:
        sub.stop()


def test_a_buffer_goes_to_the_hand_over_in_one_batch() -> None:
    """With `deliver_many` (the hand-over's `put_many`) one buffer is one call; a topic that
    is not UTF-8 is counted and left out of it."""
    one: list[Received] = []
    many: list[list[Received]] = []
    sub = Subscriber(BrokerOptions("127.0.0.1", 1, "t", protocol="3.1.1"), [("a/#", 0)],
                     one.append, many.append)
    try:
        c = sub._client
        assert isinstance(c, _BufferedClient) and c.fast_publish is not None
        c._rbuf = publish(b"a/1", b"1", retain=True) + publish(b"a/\xff", b"x") \
            + publish(b"a/2", b"2")
        assert c._fast_publishes(c.fast_publish) == 3
        assert one == [] and sub.stats.undecodable == 1
        assert [[(m.topic, m.payload, m.retained, m.qos) for m in b] for b in many] == [
            [("a/1", b"1", True, 0), ("a/2", b"2", False, 0)]]
    finally:
        sub.stop()
