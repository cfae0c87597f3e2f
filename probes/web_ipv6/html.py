"""HTML reading for the website test: in-site links, and a normalised form for comparison.

Only the stdlib `html.parser` (lenient: broken markup never raises). Normalisation keeps what
makes two homepages "the same page" to a visitor: the tag structure and the visible words.
Scripts, styles, comments, whitespace and attribute values (session tokens, cache-busting
query strings) are dropped, so a per-request nonce does not read as an inconsistency.
"""

from __future__ import annotations

import codecs
import hashlib
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

_SKIP_CONTENT = frozenset({"script", "style", "noscript", "template"})


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.tokens: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT:
            self._skip += 1
            return
        self.tokens.append(f"<{tag}>")
        if tag in ("a", "area"):
            href = dict(attrs).get("href")
            if href:
                self.links.append(href.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skip = max(0, self._skip - 1)
            return
        self.tokens.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.tokens.extend(data.split())


def read(body: bytes, charset: str | None = None) -> _Reader:
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a bytes-to-bytes codec named as a charset (`charset=base64`)
        text = body.decode("utf-8", errors="replace")
    r = _Reader()
    try:
        r.feed(text)
        r.close()
    except (AssertionError, ValueError):  # html.parser can still trip on pathological input
        pass
    return r


def charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "charset" and v:
            cs = v.strip("\"' ").lower()
            try:
                info = codecs.lookup(cs)
            except LookupError:
                return None
            # base64, rot13, zlib … are codecs but not text encodings: str.decode refuses them
            return cs if getattr(info, "_is_text_encoding", True) else None
    return None


def in_site_links(base_url: str, hrefs: list[str]) -> list[str]:
    """Absolute http(s) links on the same host as `base_url`, without fragments, deduplicated
    in document order."""
    host = urlsplit(base_url).hostname
    out: dict[str, None] = {}
    for href in hrefs:
        if href.startswith(("#", "mailto:", "javascript:", "tel:", "data:")):
            continue
        try:
            url = urldefrag(urljoin(base_url, href))[0]
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme in ("http", "https") and parts.hostname == host:
            out.setdefault(url, None)
    return list(out)


def fingerprint(tokens: list[str]) -> str:
    return hashlib.sha256("\x1f".join(tokens).encode()).hexdigest()[:16]


MAX_TOKENS = 200_000  # a 2 MiB page has fewer; the comparison stays bounded whatever comes
_SHINGLE = 3


def _shingles(tokens: list[str]) -> Counter[tuple[str, ...]]:
    if len(tokens) < _SHINGLE:
        return Counter([tuple(tokens)])
    return Counter(zip(*(tokens[i:] for i in range(_SHINGLE)), strict=False))


def similarity(a: list[str], b: list[str]) -> float:
    """1.0 = same structure and words; else the Dice coefficient of the two pages' token
    3-grams (as multisets): word order counts locally, and it is linear in the page size.
    difflib's SequenceMatcher (autojunk off) was quadratic: 8k tokens took 8 CPU-seconds."""
    if a == b:
        return 1.0
    sa, sb = _shingles(a[:MAX_TOKENS]), _shingles(b[:MAX_TOKENS])
    total = sa.total() + sb.total()
    return 2 * (sa & sb).total() / total if total else 1.0
