"""Syslog over a byte stream (RFC 6587): octet-counting (`LEN SP MSG`) and LF-delimited frames,
detected per frame, so one connection may mix them (RFC 5425 TLS uses octet-counting).

Bounded: a frame longer than `max_frame` is cut at the limit and flagged, an LF-delimited line
with no LF yet is held to at most `max_frame` bytes, and a length prefix of more than 7 digits
or over the limit is treated as the start of an LF-delimited line (a device sending "123 …" text).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Framer:
    max_frame: int = 65536
    _buf: bytearray = field(default_factory=bytearray)
    oversized: int = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Append received bytes; return the complete frames."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos = 0
        n = len(buf)
        while pos < n:
            c = buf[pos]
            if c in (0x0A, 0x0D, 0x00):  # stray separators between frames
                pos += 1
                continue
            if 0x31 <= c <= 0x39:  # octet-counting: a non-zero digit starts MSG-LEN
                sp = buf.find(b" ", pos, min(n, pos + 8))
                if sp != -1 and buf[pos:sp].isdigit():
                    length = int(buf[pos:sp])
                    if length <= self.max_frame:
                        end = sp + 1 + length
                        if end > n:
                            break  # wait for the rest
                        out.append(bytes(buf[sp + 1:end]))
                        pos = end
                        continue
                elif sp == -1 and n - pos < 8 and buf[pos:n].isdigit():
                    break  # a length prefix still arriving
            nl = buf.find(b"\n", pos)
            if nl == -1:
                if n - pos > self.max_frame:  # no LF within the limit: cut, count, resync
                    out.append(bytes(buf[pos:pos + self.max_frame]))
                    self.oversized += 1
                    pos += self.max_frame
                    continue
                break
            if nl - pos > self.max_frame:
                self.oversized += 1
                out.append(bytes(buf[pos:pos + self.max_frame]))
            else:
                out.append(bytes(buf[pos:nl]))
            pos = nl + 1
        del buf[:pos]
        return out

    def flush(self) -> list[bytes]:
        """At end of stream: what is left is the last (unterminated) frame."""
        rest = bytes(self._buf).strip(b"\r\n\x00")
        self._buf.clear()
        return [rest[: self.max_frame]] if rest else []
