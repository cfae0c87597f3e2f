"""cryptography, wrapped: read a peer certificate's expiry, issuer and key type from its DER
bytes.

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


# SM2 (GM/T 0006 OIDs under 1.2.156.10197): the curve sm2p256v1 (1.301) as the key's curve,
# SM3withSM2 (1.501) as the signature. Matched in the DER bytes: cryptography may refuse to
# build an SM2 public key, but a certificate using one is what a 国密 site presents.
_SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")  # OID 1.2.156.10197.1.301
_SM3_WITH_SM2 = bytes.fromhex("06082a811ccf55018375")  # OID 1.2.156.10197.1.501


def is_sm2(der: bytes) -> bool:
    """True for a certificate with an SM2 key or an SM3withSM2 signature (国密)."""
    head = der[:16384]
    return _SM2_CURVE in head or _SM3_WITH_SM2 in head


def issuer_of(der: bytes) -> str:
    """The issuer DN as RFC 4514 text (bounded), '' for bytes that are not a certificate."""
    try:
        return x509.load_der_x509_certificate(der).issuer.rfc4514_string()[:256]
    except ValueError:
        return ""
