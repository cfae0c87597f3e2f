"""cryptography, wrapped: read a peer certificate's expiry from its DER bytes.

`ssl` only decodes the peer certificate after verification; a probe must report the expiry of
an unverified (self-signed, expired) certificate too, so the DER is parsed here.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509


def not_after(der: bytes) -> datetime | None:
    """The certificate's notAfter (UTC), or None for bytes that are not a certificate."""
    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None
