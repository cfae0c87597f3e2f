"""Blocks of the local store: many rows of one measurement in one compressed blob.

A row is `(series id, ts_ns, fields)`. A block sorts its rows by series and time and stores
them as columns: series ids and timestamps as deltas, then each field's values apart (a
field missing from some rows carries a presence byte per row). Integer columns (int64) and
float columns (float64) are stored as 8-byte values with their bytes transposed (all lowest
bytes, then the next …), so the high bytes of counters and the exponents of floats become
long runs zstd removes; anything else (text, booleans, integers past int64, mixed types) is a
JSON list, exact. One zstd frame per block.

Why columns and not a row per point: a row per point with its fields as JSON cost ~29 MB per
tick at 1,000 switches (docs/performance.md, "Local store"); blocks cost a tenth of that.

Roll-ups are computed here too (`rollup`, `rollup_of_rollups`) so the store module stays
about tables, tiers and bounds.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Iterable, Mapping, Sequence

import zstandard

from agent.core.model import FieldValue

LEVEL = 3
MAX_BLOCK_BYTES = 512 * 2**20  # decompressed: far above any block this codec writes
_U32 = struct.Struct("<I")
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
Row = tuple[int, int, Mapping[str, FieldValue]]


class BlockError(ValueError):
    """A blob is not a block this codec wrote (corrupt or foreign)."""


def _shuffle(raw: bytes) -> bytes:
    return b"".join(raw[k::8] for k in range(8))


def _unshuffle(data: bytes) -> bytes:
    if len(data) % 8:
        raise BlockError("column length is not a multiple of 8")
    n = len(data) // 8
    out = bytearray(len(data))
    for k in range(8):
        out[k::8] = data[k * n:(k + 1) * n]
    return bytes(out)


def _deltas(values: Sequence[int]) -> array[int]:
    out = array("q", values)
    for i in range(len(out) - 1, 0, -1):
        out[i] -= out[i - 1]
    return out


def _undeltas(values: array[int]) -> list[int]:
    acc = 0
    out = []
    for v in values:
        acc += v
        out.append(acc)
    return out


def _column(values: list[FieldValue]) -> tuple[str, bytes]:
    """('q'|'d'|'j', bytes) for the present values of one field."""
    types = {type(v) for v in values}
    if types == {int}:
        ints = [v for v in values if isinstance(v, int)]
        if min(ints) >= _I64_MIN and max(ints) <= _I64_MAX:
            return "q", _shuffle(array("q", ints).tobytes())
    if types == {float}:
        return "d", _shuffle(array("d", [v for v in values if isinstance(v, float)]).tobytes())
    return "j", json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def encode(rows: Iterable[Row]) -> tuple[bytes, int, int, int]:
    """(blob, rows, min ts, max ts) of a block; rows need not be sorted."""
    srt = sorted(rows, key=lambda r: (r[0], r[1]))
    if not srt:
        raise ValueError("an empty block")
    n = len(srt)
    cols: dict[str, list[FieldValue | None]] = {}
    for i, (_, _, fields) in enumerate(srt):
        for k, v in fields.items():
            col = cols.get(k)
            if col is None:
                col = cols[k] = [None] * n
            col[i] = v
    parts = [_shuffle(_deltas([r[0] for r in srt]).tobytes()),
             _shuffle(_deltas([r[1] for r in srt]).tobytes())]
    head: list[list[object]] = []
    for name, col in cols.items():
        present = [v for v in col if v is not None]
        dense = len(present) == n
        kind, data = _column(present)
        if not dense:
            parts.append(bytes(v is not None for v in col))
        parts.append(data)
        head.append([name, kind, int(dense), len(data)])
    hdr = json.dumps({"n": n, "f": head}, ensure_ascii=False, separators=(",", ":")).encode()
    body = b"".join([_U32.pack(len(hdr)), hdr, *parts])
    ts = [r[1] for r in srt]
    return zstandard.ZstdCompressor(level=LEVEL).compress(body), n, min(ts), max(ts)


def decode(blob: bytes) -> list[tuple[int, int, dict[str, FieldValue]]]:
    """The rows of a block, sorted by series and time. BlockError when it is damaged."""
    try:
        # python-zstandard ignores max_output_size when the frame states its size (ours
        # always do): check the claim first, so a damaged header cannot allocate GBs
        size = zstandard.frame_content_size(blob)
        if size < 0 or size > MAX_BLOCK_BYTES:
            raise BlockError(f"block claims {size} bytes")
        body = zstandard.ZstdDecompressor().decompress(blob)
        (hlen,) = _U32.unpack_from(body, 0)
        hdr = json.loads(body[4:4 + hlen])
        n = int(hdr["n"])
        pos = 4 + hlen

        def take(size: int) -> bytes:
            nonlocal pos
            if size < 0 or pos + size > len(body):
                raise BlockError("a column runs past the end of the block")
            out = body[pos:pos + size]
            pos += size
            return out

        sids = _undeltas(array("q", _unshuffle(take(8 * n))))
        tss = _undeltas(array("q", _unshuffle(take(8 * n))))
        rows: list[tuple[int, int, dict[str, FieldValue]]] = [
            (s, t, {}) for s, t in zip(sids, tss, strict=True)]
        for name, kind, dense, size in hdr["f"]:
            idx = range(n) if dense else [i for i, p in enumerate(take(n)) if p]
            data = take(int(size))
            vals: Sequence[FieldValue]
            if kind == "q":
                vals = array("q", _unshuffle(data)).tolist()
            elif kind == "d":
                vals = array("d", _unshuffle(data)).tolist()
            elif kind == "j":
                vals = json.loads(data)
            else:
                raise BlockError(f"unknown column kind {kind!r}")
            if len(vals) != len(idx):
                raise BlockError(f"column {name!r}: {len(vals)} values for {len(idx)} rows")
            for i, v in zip(idx, vals, strict=True):
                rows[i][2][str(name)] = v
        return rows
    except BlockError:
        raise
    except (zstandard.ZstdError, struct.error, ValueError, KeyError, TypeError,
            IndexError) as exc:
        raise BlockError(f"damaged block: {type(exc).__name__}: {exc}") from None


def rollup(samples: Sequence[tuple[int, Mapping[str, FieldValue]]]) -> dict[str, FieldValue]:
    """One bucket of one series (raw samples oldest first) → the roll-up's fields: integers
    (counters, states) and text the last value, so counter deltas and rates still work at
    the bucket's resolution; floats the average plus `<field>_max`."""
    out: dict[str, FieldValue] = {}
    floats: dict[str, list[float]] = {}
    for _, fields in samples:
        for k, v in fields.items():
            if isinstance(v, float):
                floats.setdefault(k, []).append(v)
            else:
                out[k] = v
    for k, vals in floats.items():
        out[k] = sum(vals) / len(vals)
        out[f"{k}_max"] = max(vals)
    return out


def rollup_of_rollups(samples: Sequence[tuple[int, Mapping[str, FieldValue]]]
                      ) -> dict[str, FieldValue]:
    """Roll-up rows (oldest first) → one coarser row with the same field names: `<f>_max`
    the maximum, other floats the average (buckets weigh the same), the rest the last."""
    out: dict[str, FieldValue] = {}
    floats: dict[str, list[float]] = {}
    for _, fields in samples:
        for k, v in fields.items():
            if isinstance(v, float):
                floats.setdefault(k, []).append(v)
            else:
                out[k] = v
    for k, vals in floats.items():
        base = k.removesuffix("_max")
        out[k] = max(vals) if base != k and base in floats else sum(vals) / len(vals)
    return out
