"""CMPP login authenticators (§8.4.1.1 and §8.4.1.2).

    AuthenticatorSource = MD5(Source_Addr + 9 zero bytes + shared secret + timestamp)
    AuthenticatorISMG   = MD5(Status + AuthenticatorSource + shared secret)

The timestamp is the 10 ASCII digits MMDDHHMMSS (the same value travels as an
integer in CONNECT). Status is hashed in its wire width: 4 bytes big-endian in
3.0, 1 byte in 2.0 (修订记录 3.0.0 item 16), which is why the ISMG authenticator
of a successful login differs between the two versions.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from .msgid import now_cst
from .pdu import Version

__all__ = [
    "authenticator_ismg",
    "authenticator_source",
    "connect_timestamp",
    "verify_source",
]

_STATUS_V30 = struct.Struct("!I")
_STATUS_V20 = struct.Struct("!B")


def connect_timestamp(epoch: float | None = None) -> int:
    """CONNECT's Timestamp (§8.4.1.1): MMDDHHMMSS in China Standard Time, as an int."""
    t = now_cst(epoch)
    return int(f"{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}{t.second:02d}")


def authenticator_source(source_addr: str, secret: str, timestamp: int) -> bytes:
    """AuthenticatorSource of §8.4.1.1 for an SP_Id, its shared secret and a timestamp."""
    data = (
        source_addr.encode("latin-1")
        + bytes(9)
        + secret.encode("utf-8")
        + f"{timestamp:010d}".encode("ascii")
    )
    return hashlib.md5(data).digest()  # noqa: S324 - the protocol mandates MD5 (§8.4.1.1)


def authenticator_ismg(status: int, auth_source: bytes, secret: str, version: Version) -> bytes:
    """AuthenticatorISMG of §8.4.1.2, with Status in the version's wire width."""
    layout = _STATUS_V30 if version >= Version.V30 else _STATUS_V20
    data = layout.pack(status) + auth_source + secret.encode("utf-8")
    return hashlib.md5(data).digest()  # noqa: S324 - the protocol mandates MD5 (§8.4.1.2)


def verify_source(source_addr: str, secret: str, timestamp: int, received: bytes) -> bool:
    """True when a CONNECT's AuthenticatorSource proves knowledge of the secret."""
    return hmac.compare_digest(authenticator_source(source_addr, secret, timestamp), received)
