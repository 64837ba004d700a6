"""Message text: Msg_Fmt encodings, long-message segmentation and MO reassembly.

Msg_Fmt (§8.4.3.1): 0 ASCII, 8 UCS2 (big-endian UTF-16), 15 GBK ("含GB汉字").
Msg_Length is one byte and the content is limited to "< 160 bytes for Msg_Fmt 0,
<= 140 bytes otherwise" (§8.4.3.1), so a longer text is sent as several SUBMITs
carrying Pk_total / Pk_number and a GSM 03.40 user data header (TP_udhi = 1,
§8.4.3.1 referring to GSM 03.40 9.2.3.23 / 9.2.3.24):

    05 00 03 ref total seq          concatenated SMS, 8-bit reference

which leaves 134 bytes, 67 UCS2 characters, per segment. On receive the 16-bit
reference form (06 08 04 refhi reflo total seq) is accepted too, and TP_udhi is
taken as set when either the right-aligned bit (0x01, as §8.4.5.1 prescribes) or
the raw TP-UDHI bit position (0x40, as some gateways send it) is present.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = [
    "ASCII",
    "GBK",
    "UCS2",
    "Assembled",
    "Reassembler",
    "Segment",
    "UserData",
    "decode_text",
    "encode_text",
    "parse_udh",
    "split_text",
]

ASCII = 0
BINARY = 4
UCS2 = 8
GBK = 15

MAX_ASCII_BYTES = 159  # §8.4.3.1: "Msg_Fmt 值为0 时：<160 个字节"
MAX_BYTES = 140  # §8.4.3.1: "其它<=140 个字节"
UDH_SIZE = 6
MAX_SEGMENT_BYTES = MAX_BYTES - UDH_SIZE  # 134 bytes: 67 UCS2 characters


@dataclass(frozen=True, slots=True)
class Segment:
    """One SUBMIT's worth of a text: the fields that differ between segments."""

    msg_fmt: int
    tp_udhi: int
    pk_total: int
    pk_number: int
    content: bytes


@dataclass(frozen=True, slots=True)
class UserData:
    """Content split into its concatenation info (if any) and the payload."""

    ref: int | None
    total: int
    seq: int
    payload: bytes


def encode_text(text: str, msg_fmt: int) -> bytes:
    """Encode a text in a Msg_Fmt (0, 8 or 15); raises ValueError for other formats
    or characters the format cannot carry."""
    if msg_fmt == ASCII:
        return text.encode("ascii")
    if msg_fmt == UCS2:
        return text.encode("utf-16-be")
    if msg_fmt == GBK:
        return text.encode("gbk")
    raise ValueError(f"cannot encode text as Msg_Fmt {msg_fmt}")


def decode_text(msg_fmt: int, data: bytes) -> str:
    """Decode content bytes of a Msg_Fmt; never raises (bad bytes become U+FFFD).

    Formats that are not text (3 SIM card, 4 binary) come back as Latin-1 so that
    every byte survives.
    """
    if msg_fmt == UCS2:
        return data.decode("utf-16-be", "replace")
    if msg_fmt == GBK:
        return data.decode("gb18030", "replace")
    if msg_fmt == ASCII:
        return data.decode("ascii", "replace")
    return data.decode("latin-1")


def _chunks(text: str, msg_fmt: int, size: int) -> list[bytes]:
    """Split text into encoded chunks of at most `size` bytes without cutting a
    character (a UCS2 surrogate pair or a GBK double byte) in two."""
    if msg_fmt == UCS2:
        units = text.encode("utf-16-be")
        chunks = []
        pos = 0
        while pos < len(units):
            end = min(pos + size, len(units))
            if end < len(units) and 0xD8 <= units[end - 2] <= 0xDB:
                end -= 2  # keep a high surrogate with its low half
            chunks.append(units[pos:end])
            pos = end
        return chunks
    chunks, current = [], b""
    for char in text:
        raw = encode_text(char, msg_fmt)
        if len(current) + len(raw) > size:
            chunks.append(current)
            current = b""
        current += raw
    if current:
        chunks.append(current)
    return chunks


def split_text(text: str, ref: int, msg_fmt: int | None = None) -> list[Segment]:
    """Split a text into SUBMIT segments.

    With `msg_fmt` None: pure ASCII that fits one message (< 160 bytes) goes as
    Msg_Fmt 0, anything else as UCS2: one message up to 70 characters, otherwise
    segments of 67 with the 8-bit-reference UDH. `ref` (0..255) ties the segments
    of one message together. Raises ValueError for more than 255 segments.
    """
    if msg_fmt is None:
        if text.isascii() and len(text) <= MAX_ASCII_BYTES:
            return [Segment(ASCII, 0, 1, 1, text.encode("ascii"))]
        msg_fmt = UCS2
    single_limit = MAX_ASCII_BYTES if msg_fmt == ASCII else MAX_BYTES
    whole = encode_text(text, msg_fmt)
    if len(whole) <= single_limit:
        return [Segment(msg_fmt, 0, 1, 1, whole)]
    chunks = _chunks(text, msg_fmt, MAX_SEGMENT_BYTES)
    total = len(chunks)
    if total > 255:
        raise ValueError(f"text needs {total} segments, at most 255 are possible")
    ref &= 0xFF
    return [
        Segment(msg_fmt, 1, total, i, bytes((5, 0, 3, ref, total, i)) + chunk)
        for i, chunk in enumerate(chunks, 1)
    ]


def parse_udh(tp_udhi: int, content: bytes) -> UserData:
    """Separate the user data header from the payload of a received message.

    Recognises IEI 0x00 (8-bit reference) and 0x08 (16-bit reference); other
    information elements are skipped. A header that does not parse is treated as
    absent: the whole content is then payload, so nothing is lost.
    """
    if not tp_udhi & 0x41 or not content:
        return UserData(None, 1, 1, content)
    udhl = content[0]
    if udhl + 1 > len(content):
        return UserData(None, 1, 1, content)
    header = content[1 : udhl + 1]
    payload = content[udhl + 1 :]
    pos = 0
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if len(value) != length:
            break
        if iei == 0x00 and length == 3:
            return UserData(value[0], value[1], value[2], payload)
        if iei == 0x08 and length == 4:
            return UserData(value[0] << 8 | value[1], value[2], value[3], payload)
        pos += 2 + length
    return UserData(None, 1, 1, payload)


@dataclass(frozen=True, slots=True)
class Assembled:
    """A complete received message: its text and how many segments it came in."""

    text: str
    msg_fmt: int
    parts: int


class Reassembler:
    """Collect the segments of concatenated MO messages until each is complete.

    Segments are matched by (key, reference, total), where the caller's key is
    typically (Src_terminal_Id, Dest_Id). Payload bytes are joined before decoding,
    so a GBK character split across segments still decodes. Incomplete messages are
    dropped after `timeout` seconds (counted in `expired`).
    """

    def __init__(self, timeout: float = 300.0, clock=time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._partial: dict[tuple, tuple[float, int, dict[int, bytes]]] = {}
        self.expired = 0

    def feed(self, key: tuple, tp_udhi: int, msg_fmt: int, content: bytes) -> Assembled | None:
        """Add one received message; return the whole message once it is complete."""
        now = self._clock()
        self._expire(now)
        ud = parse_udh(tp_udhi, content)
        if ud.ref is None or ud.total <= 1 or not 1 <= ud.seq <= ud.total:
            return Assembled(decode_text(msg_fmt, ud.payload), msg_fmt, 1)
        slot = (key, ud.ref, ud.total)
        started, fmt, parts = self._partial.get(slot, (now, msg_fmt, {}))
        parts[ud.seq] = ud.payload
        if len(parts) < ud.total:
            self._partial[slot] = (started, fmt, parts)
            return None
        self._partial.pop(slot, None)
        data = b"".join(parts[i] for i in range(1, ud.total + 1))
        return Assembled(decode_text(fmt, data), fmt, ud.total)

    def _expire(self, now: float) -> None:
        if not self._partial:
            return
        stale = [k for k, (started, _, _) in self._partial.items() if now - started > self.timeout]
        for k in stale:
            del self._partial[k]
            self.expired += 1

    @property
    def pending(self) -> int:
        """Messages with some but not all segments received."""
        return len(self._partial)
