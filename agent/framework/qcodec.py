"""Dense, lossless blocks of line protocol for the disk queue.

A block is a list of lines (one queue row). Compressing the text as it is (zstd, with or
without a trained dictionary) leaves ~4.7 bytes per value on campus interface data: the
numbers are spread among tags and field names. Here a block is first turned into columns:
lines of one layout (measurement and field keys) form a group whose series heads, timestamps
and each field's values are stored apart. Integer and float columns are stored as 8-byte
values with their bytes transposed (all lowest bytes, then the next …), so the high bytes of
counters and the exponents of floats become long runs zstd removes; a column whose values do
not print back exactly (`u` integers, odd float spellings) stays text. Measured on the
outage bench's campus (`bench/outage/README.md`): 2.9–3.0 bytes per value, against 4.7 for zstd
of the text and 31 uncompressed.

Lossless by construction: every line decodes to exactly the text that was put. Lines the
fast path cannot split safely (string fields, escapes, no timestamp) are kept as text in the
same block. Line order is kept.

The agent's own metrics never go through text on the way in: `encode_metrics` builds the same
block straight from the Metric objects (measurement, tags, field keys and values, timestamp),
grouped by measurement and field keys, with the heads and `key=` prefixes `render` caches. A
group whose values do not all fit a typed column (strings, booleans, `u` integers, NaN) is
rendered by `render` and kept as text lines, so the block always decodes to exactly
`render_many(metrics)`. Rendering the line protocol (`render_many`) and splitting it again was
~90 % of a put. Decoding renders each group's lines in one pass from a format string built from
its prefixes (`%d`/`%r` of the stored int64/float64 values), so delivery does not pay a string
operation per value either.
"""

from __future__ import annotations

import math
import re
import struct
from array import array
from collections.abc import Sequence
from typing import cast

import zstandard

from agent.core.lineprotocol import field_prefixes, head, render
from agent.core.model import Metric

PLAIN, COLUMNAR_ZSTD = 0, 1  # the queue row's `codec` column
LEVEL = 3  # measured: higher levels gain < 1 % here for 10-30 % more CPU
_U32 = struct.Struct("<I")
_RAW, _COLS = 0, 1
_TEXT, _INT, _FLOAT = b"T", b"I", b"F"
MAX_LINES = 65535  # a block's group index is stored as uint16
MAX_BODY_BYTES = 256 * 2**20  # far above any block this codec writes
_INT_RE = r"(?:0|-?[1-9][0-9]*)"
_CANONICAL_INTS = re.compile(rf"{_INT_RE}(?:\n{_INT_RE})*")


class CodecError(ValueError):
    """A payload is not a block this codec wrote (corrupt or foreign)."""


def _shuffle(raw: bytes) -> bytes:
    return b"".join(raw[k::8] for k in range(8))


def _unshuffle(data: bytes) -> bytes:
    n = len(data) // 8
    out = bytearray(len(data))
    for k in range(8):
        out[k::8] = data[k * n:(k + 1) * n]
    return bytes(out)


def _encode_column(values: list[str]) -> bytes:
    """One field's values: shuffled int64 / float64 when they print back exactly, else text."""
    text = "\n".join(values)
    if text.endswith("i") and "u" not in text and text.count("i\n") == len(values) - 1:
        body = text.replace("i\n", "\n")[:-1]
        # canonical spellings only (no "+1", "01", "-0"), so they print back the same
        if _CANONICAL_INTS.fullmatch(body):
            try:
                return _INT + _shuffle(array("q", map(int, body.split("\n"))).tobytes())
            except OverflowError:  # beyond int64
                pass
    elif "i" not in text and "u" not in text and "true" not in text and "false" not in text:
        try:
            floats = list(map(float, values))
            if "\n".join(map(repr, floats)) == text:
                return _FLOAT + _shuffle(array("d", floats).tobytes())
        except ValueError:
            pass
    return _TEXT + text.encode()


def _decode_column(data: bytes, n: int) -> tuple[str, Sequence[object]]:
    """(printf conversion that renders a value as line protocol, the values)."""
    tag, body = data[:1], data[1:]
    out: Sequence[object]
    if tag == _TEXT:
        out, conv = (body.decode().split("\n") if n else []), "%s"
    elif tag == _INT:
        if len(body) % 8:
            raise CodecError("int column is not a whole number of int64")
        out, conv = array("q", _unshuffle(body)), "%di"
    elif tag == _FLOAT:
        if len(body) % 8:
            raise CodecError("float column is not a whole number of float64")
        out, conv = array("d", _unshuffle(body)), "%r"  # %r is repr: what `render` writes
    else:
        raise CodecError(f"unknown column type {tag!r}")
    if len(out) != n:
        raise CodecError(f"column holds {len(out)} values, expected {n}")
    return conv, out


def _sections(parts: list[bytes]) -> bytes:
    return b"".join(_U32.pack(len(p)) + p for p in parts)


def _read_sections(body: bytes) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    while pos < len(body):
        if pos + 4 > len(body):
            raise CodecError("truncated section header")
        (n,) = _U32.unpack_from(body, pos)
        pos += 4
        if pos + n > len(body):
            raise CodecError("truncated section")
        out.append(body[pos:pos + n])
        pos += n
    return out


def encode_body(lines: list[str]) -> bytes:
    """The uncompressed columnar body of a block (before zstd)."""
    if len(lines) > MAX_LINES:
        raise ValueError(f"a block holds at most {MAX_LINES} lines")
    groups: dict[tuple[str, int], int] = {}
    members: list[list[list[str]]] = []  # per group: the lines' [head, fields, ts]
    raw: list[str] = []
    order = array("H")
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or '"' in line or "\\" in line:
            order.append(0)
            raw.append(line)
            continue
        key = (parts[0].partition(",")[0], parts[1].count(","))
        gi = groups.get(key)
        if gi is None:
            gi = groups[key] = len(members) + 1
            members.append([])
        members[gi - 1].append(parts)
        order.append(gi)
    out: list[bytes] = [_U32.pack(len(lines)), _shuffle_u16(order),
                        "\n".join(raw).encode()]
    for rows in members:
        out.append(_encode_group(rows))
    return _sections(out)


def _shuffle_u16(a: array[int]) -> bytes:
    raw = a.tobytes()
    return raw[0::2] + raw[1::2]


def _unshuffle_u16(data: bytes) -> array[int]:
    n = len(data) // 2
    out = bytearray(len(data))
    out[0::2] = data[:n]
    out[1::2] = data[n:]
    a = array("H")
    a.frombytes(bytes(out))
    return a


def _encode_group(rows: list[list[str]]) -> bytes:
    """Lines of one measurement and field count: heads, timestamps, then one column a field.
    If the field keys differ between lines, the group is kept as text lines."""
    n = len(rows)
    heads = "\n".join(r[0] for r in rows)
    stamps = "\n".join(r[2] for r in rows)
    fields = [r[1].split(",") for r in rows]
    cols = list(zip(*fields, strict=True))
    keyed: list[bytes] = []
    prefixes: list[str] = []
    for col in cols:
        first = col[0]
        eq = first.find("=")
        if eq <= 0:
            return _sections([bytes([_RAW]), "\n".join(" ".join(r) for r in rows).encode()])
        pre = first[:eq + 1]
        text = "\n".join(col)
        if text.count("\n" + pre) != n - 1 or pre.count("=") != 1:
            return _sections([bytes([_RAW]), "\n".join(" ".join(r) for r in rows).encode()])
        prefixes.append(pre)
        stripped = text.replace("\n" + pre, "\n")[len(pre):]
        keyed.append(_encode_column(stripped.split("\n")))
    return _sections([bytes([_COLS]), ",".join(prefixes).encode(), heads.encode(),
                      stamps.encode(), *keyed])


def _decode_group(data: bytes, n: int) -> list[str]:
    parts = _read_sections(data)
    if not parts or len(parts[0]) != 1:
        raise CodecError("bad group header")
    if parts[0][0] == _RAW:
        lines = parts[1].decode().split("\n") if n else []
        if len(lines) != n:
            raise CodecError("raw group size mismatch")
        return lines
    if len(parts) < 4:
        raise CodecError("truncated group")
    prefixes = parts[1].decode().split(",")
    heads = parts[2].decode().split("\n")
    stamps = parts[3].decode().split("\n")
    if len(heads) != n or len(stamps) != n or len(parts) - 4 != len(prefixes):
        raise CodecError("group size mismatch")
    # one format string for the group's lines: `head pre1%di,pre2%r timestamp`
    convs: list[str] = []
    cols: list[Sequence[object]] = []
    for pre, c in zip(prefixes, parts[4:], strict=True):
        conv, values = _decode_column(c, n)
        convs.append(pre.replace("%", "%%") + conv)
        cols.append(values)
    fmt = "%s " + ",".join(convs) + " %s"
    return list(map(fmt.__mod__, zip(heads, *cols, stamps, strict=True)))


def decode_body(body: bytes) -> list[str]:
    parts = _read_sections(body)
    if len(parts) < 3 or len(parts[0]) != 4:
        raise CodecError("bad block header")
    (n,) = _U32.unpack(parts[0])
    order = _unshuffle_u16(parts[1])
    if len(order) != n:
        raise CodecError("order size mismatch")
    counts = [0] * (len(parts) - 2)
    for gi in order:
        if gi >= len(counts):
            raise CodecError("group index out of range")
        counts[gi] += 1
    raw = parts[2].decode().split("\n") if counts[0] else []
    if len(raw) != counts[0]:
        raise CodecError("raw lines size mismatch")
    decoded = [raw, *(_decode_group(parts[3 + i], counts[1 + i])
                      for i in range(len(parts) - 3))]
    if len(decoded) == 2 and not raw:  # one group (a flush of one measurement): in order
        return decoded[1]
    iters = [iter(g) for g in decoded]
    return [next(iters[gi]) for gi in order]


def _typed_column(values: tuple[object, ...]) -> bytes | None:
    """A field's values as a shuffled int64 / float64 column, or None when `render` would
    not write them all as `<int>i` / repr(float) (bools, strings, `u` integers, NaN, inf)."""
    types = set(map(type, values))
    if types == {int}:
        try:
            return _INT + _shuffle(array("q", cast(tuple[int, ...], values)).tobytes())
        except OverflowError:  # past int64: `u` or a huge negative, rendered as text
            return None
    floats = cast(tuple[float, ...], values)
    # NaN and inf make the sum non-finite (render drops those fields); a sum that overflows
    # from finite values only sends the group the text way, still exact
    if types == {float} and math.isfinite(sum(floats)):
        return _FLOAT + _shuffle(array("d", floats).tobytes())
    return None


def _metrics_group(rows: list[Metric], keys: tuple[str, ...]) -> tuple[bytes, list[bool]]:
    """One group's section from Metric objects of one measurement and field keys, and which
    of them give a line (`render` writes nothing for a point whose every field is NaN)."""
    prefixes = field_prefixes(keys) if keys else ()
    joined = ",".join(prefixes)
    if prefixes and joined.count(",") == len(prefixes) - 1 and "\n" not in joined:
        cols = []
        for values in zip(*(m.fields.values() for m in rows), strict=True):
            col = _typed_column(values)
            if col is None:
                break
            cols.append(col)
        else:
            heads = "\n".join(map(head, rows))
            stamps = "\n".join([str(m.ts_ns) for m in rows])
            return _sections([bytes([_COLS]), joined.encode(), heads.encode(),
                              stamps.encode(), *cols]), [True] * len(rows)
    lines = [render(m) for m in rows]
    kept = [bool(x) for x in lines]
    return _sections([bytes([_RAW]), "\n".join(x for x in lines if x).encode()]), kept


def encode_metrics_body(metrics: Sequence[Metric]) -> tuple[int, bytes]:
    """(lines, body): the block of `render_many(metrics)`, built from the objects."""
    if len(metrics) > MAX_LINES:
        raise ValueError(f"a block holds at most {MAX_LINES} lines")
    groups: dict[tuple[str, tuple[str, ...]], int] = {}
    members: list[list[Metric]] = []
    keys: list[tuple[str, ...]] = []
    order = array("H")
    for m in metrics:
        key = (m.name, tuple(m.fields))
        gi = groups.get(key)
        if gi is None:
            gi = groups[key] = len(members) + 1
            members.append([])
            keys.append(key[1])
        members[gi - 1].append(m)
        order.append(gi)
    sections: list[bytes] = []
    dropped: dict[int, list[bool]] = {}
    for gi, (rows, k) in enumerate(zip(members, keys, strict=True), start=1):
        section, kept = _metrics_group(rows, k)
        sections.append(section)
        if not all(kept):
            dropped[gi] = kept
    if dropped:  # points without a line leave the order, as render_many leaves them out
        seen = dict.fromkeys(dropped, 0)
        keep_order = array("H")
        for gi in order:
            if gi in seen:
                i = seen[gi]
                seen[gi] = i + 1
                if not dropped[gi][i]:
                    continue
            keep_order.append(gi)
        order = keep_order
    return len(order), _sections([_U32.pack(len(order)), _shuffle_u16(order), b"", *sections])


class Codec:
    """zstd around the columnar body. One per queue (zstd contexts are reused, not shared
    between threads: the queue calls it under its lock)."""

    def __init__(self, level: int = LEVEL) -> None:
        self._c = zstandard.ZstdCompressor(level=level)
        self._d = zstandard.ZstdDecompressor()

    def encode(self, lines: list[str]) -> tuple[int, bytes]:
        """(codec, payload) for the queue row."""
        if len(lines) > MAX_LINES:  # never from the queue's own blocks; kept correct anyway
            return PLAIN, "\n".join(lines).encode()
        return COLUMNAR_ZSTD, self._c.compress(encode_body(lines))

    def encode_metrics(self, metrics: Sequence[Metric]) -> tuple[int, int, bytes]:
        """(lines, codec, payload) for the queue row holding `render_many(metrics)`."""
        n, body = encode_metrics_body(metrics)
        return n, COLUMNAR_ZSTD, self._c.compress(body)

    def decode(self, codec: int, payload: bytes) -> list[str]:
        if codec == PLAIN:  # a row from a queue written before the codec existed
            return payload.decode().split("\n")
        if codec != COLUMNAR_ZSTD:
            raise CodecError(f"unknown codec {codec}")
        try:
            size = zstandard.frame_content_size(payload)
            if size < 0 or size > MAX_BODY_BYTES:  # a damaged header must not allocate GBs
                raise CodecError(f"block claims {size} bytes")
            return decode_body(self._d.decompress(payload))
        except zstandard.ZstdError as exc:
            raise CodecError(f"zstd: {exc}") from exc
        except (ValueError, IndexError, StopIteration, struct.error) as exc:
            if isinstance(exc, CodecError):
                raise
            raise CodecError(f"damaged block: {exc}") from exc
