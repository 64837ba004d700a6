"""CMPP 2.0 / 3.0 PDU codec: bytes in, frozen dataclasses out, and back.

Implements the message layouts of §8.3 (header) and §8.4.1–§8.4.7 (SP <-> ISMG
messages) of QB-GF-028-2003 (CMPP 3.0.0), plus the CMPP 2.0 layouts listed in its
revision history (修订记录, "CMPPV3.0.0" item 1, 3, 5, 7, 16, 28): 21-byte terminal
ids, no terminal-type bytes, 1-byte Status / Result / Success_Id, an 8-byte Reserve
instead of the 20-byte LinkID.

The module does no I/O (no sockets, no asyncio), so the session, the simulator and
the tests share one codec. Every layout is a precompiled `struct.Struct`, one per
PDU and version, because encoding and decoding sit on the hot path of a sender
doing tens of thousands of SUBMITs per second. Decoding arbitrary bytes raises
`ProtocolError` and nothing else: a malformed PDU from the peer must close the
link, never crash the process.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "HEADER",
    "HEADER_SIZE",
    "MAX_PDU_SIZE",
    "ActiveTest",
    "ActiveTestResp",
    "Cancel",
    "CancelResp",
    "CommandId",
    "Connect",
    "ConnectResp",
    "Deliver",
    "DeliverResp",
    "FrameReader",
    "Pdu",
    "ProtocolError",
    "Query",
    "QueryResp",
    "StatusReport",
    "Submit",
    "SubmitResp",
    "Terminate",
    "TerminateResp",
    "Version",
    "decode",
    "encode",
]


class ProtocolError(Exception):
    """The bytes are not a valid CMPP PDU for the negotiated version (or a value
    cannot be encoded into its field). The only exception the decoder raises."""


class Version(enum.IntEnum):
    """The Version byte of CMPP_CONNECT (§8.4.1.1): high nibble major, low minor."""

    V20 = 0x20
    V30 = 0x30

    @classmethod
    def parse(cls, text: str) -> Version:
        """Map the command-line spelling "2.0" / "3.0" to a version."""
        try:
            return {"2.0": cls.V20, "3.0": cls.V30, "2": cls.V20, "3": cls.V30}[text.strip()]
        except KeyError:
            raise ValueError(f"unsupported CMPP version {text!r} (use 2.0 or 3.0)") from None

    @property
    def label(self) -> str:
        """The human spelling, "2.0" or "3.0"."""
        return f"{self >> 4}.{self & 0x0F}"


class CommandId(enum.IntEnum):
    """Command_Id values of §8.7.1 used on the SP <-> ISMG link."""

    CONNECT = 0x00000001
    CONNECT_RESP = 0x80000001
    TERMINATE = 0x00000002
    TERMINATE_RESP = 0x80000002
    SUBMIT = 0x00000004
    SUBMIT_RESP = 0x80000004
    DELIVER = 0x00000005
    DELIVER_RESP = 0x80000005
    QUERY = 0x00000006
    QUERY_RESP = 0x80000006
    CANCEL = 0x00000007
    CANCEL_RESP = 0x80000007
    ACTIVE_TEST = 0x00000008
    ACTIVE_TEST_RESP = 0x80000008


# §8.3: Total_Length, Command_Id, Sequence_Id, all 4-byte unsigned, network order.
HEADER = struct.Struct("!III")
HEADER_SIZE = HEADER.size

# The largest legal SP <-> ISMG PDU is a 3.0 SUBMIT to 99 recipients (§8.4.3.1:
# DestUsr_tl < 100) with 255 content bytes: 12 + 129 + 99 * 32 + 2 + 255 + 20 =
# 3586 bytes. Anything claiming more is a broken or hostile peer.
MAX_PDU_SIZE = 4096

_V20 = Version.V20
_V30 = Version.V30


def _octets(value: str, size: int, field: str) -> bytes:
    """Encode an Octet String field (§8.1): at most `size` bytes, NUL-padded by struct."""
    raw = value.encode("latin-1")
    if len(raw) > size:
        raise ProtocolError(f"{field} is {len(raw)} bytes, the field holds {size}")
    return raw


_TEXT_CACHE: dict[bytes, str] = {}
_TEXT_CACHE_SIZE = 4096


def _text(raw: bytes) -> str:
    """Decode an Octet String field: up to the first NUL (§8.1 right padding).

    Service_Id, Src_Id, FeeType and the like repeat in every PDU of a link, so
    decoded values are memoised (a bounded table: once full it stops growing).
    """
    text = _TEXT_CACHE.get(raw)
    if text is None:
        text = raw.split(b"\0", 1)[0].decode("latin-1")
        if len(_TEXT_CACHE) < _TEXT_CACHE_SIZE:
            _TEXT_CACHE[raw] = text
    return text


def _check_size(body: bytes, size: int, name: str) -> None:
    if len(body) != size:
        raise ProtocolError(f"{name} body is {len(body)} bytes, expected {size}")


# ---------------------------------------------------------------------------
# §8.4.1 CMPP_CONNECT / CMPP_CONNECT_RESP
# ---------------------------------------------------------------------------

_CONNECT = struct.Struct("!6s16sBI")  # §8.4.1.1, same in 2.0 and 3.0
_CONNECT_RESP_V30 = struct.Struct("!I16sB")  # §8.4.1.2, Status 4 bytes
_CONNECT_RESP_V20 = struct.Struct("!B16sB")  # 2.0: Status 1 byte


@dataclass(frozen=True, slots=True)
class Connect:
    """CMPP_CONNECT (§8.4.1.1): the SP logs in with its SP_Id and an MD5 proof."""

    COMMAND_ID: ClassVar[int] = CommandId.CONNECT

    source_addr: str
    authenticator_source: bytes
    version: int
    timestamp: int

    def encode_body(self, version: Version) -> bytes:
        """The message body; the layout is the same in both versions."""
        if len(self.authenticator_source) != 16:
            raise ProtocolError("AuthenticatorSource must be 16 bytes")
        return _CONNECT.pack(
            _octets(self.source_addr, 6, "Source_Addr"),
            self.authenticator_source,
            self.version,
            self.timestamp,
        )

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Connect:
        """Parse a CONNECT body (the server side reads it before knowing the version)."""
        _check_size(body, _CONNECT.size, "CMPP_CONNECT")
        addr, auth, ver, ts = _CONNECT.unpack(body)
        return cls(_text(addr), auth, ver, ts)


@dataclass(frozen=True, slots=True)
class ConnectResp:
    """CMPP_CONNECT_RESP (§8.4.1.2): Status, AuthenticatorISMG and the server's version.

    The decoder takes the Status width from the body length (21 bytes: 3.0, 18 bytes:
    2.0) because a server refusing a too-new client answers in its own version.
    """

    COMMAND_ID: ClassVar[int] = CommandId.CONNECT_RESP

    status: int
    authenticator_ismg: bytes
    version: int

    def encode_body(self, version: Version) -> bytes:
        """Status is 4 bytes in 3.0, 1 byte in 2.0 (修订记录 3.0.0 item 16)."""
        auth = self.authenticator_ismg or bytes(16)
        if len(auth) != 16:
            raise ProtocolError("AuthenticatorISMG must be 16 bytes")
        layout = _CONNECT_RESP_V30 if version >= _V30 else _CONNECT_RESP_V20
        return layout.pack(self.status, auth, self.version)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> ConnectResp:
        """Parse either width; see the class docstring."""
        if len(body) == _CONNECT_RESP_V30.size:
            return cls(*_CONNECT_RESP_V30.unpack(body))
        if len(body) == _CONNECT_RESP_V20.size:
            return cls(*_CONNECT_RESP_V20.unpack(body))
        raise ProtocolError(f"CMPP_CONNECT_RESP body is {len(body)} bytes, expected 21 or 18")


# ---------------------------------------------------------------------------
# §8.4.2 CMPP_TERMINATE, §8.4.7 CMPP_ACTIVE_TEST: (almost) empty bodies
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terminate:
    """CMPP_TERMINATE (§8.4.2.1): either side asks to tear the link down. No body."""

    COMMAND_ID: ClassVar[int] = CommandId.TERMINATE

    def encode_body(self, version: Version) -> bytes:
        """Empty body."""
        return b""

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Terminate:
        """Accept only an empty body."""
        _check_size(body, 0, "CMPP_TERMINATE")
        return _TERMINATE


@dataclass(frozen=True, slots=True)
class TerminateResp:
    """CMPP_TERMINATE_RESP (§8.4.2.2). No body."""

    COMMAND_ID: ClassVar[int] = CommandId.TERMINATE_RESP

    def encode_body(self, version: Version) -> bytes:
        """Empty body."""
        return b""

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> TerminateResp:
        """Accept only an empty body."""
        _check_size(body, 0, "CMPP_TERMINATE_RESP")
        return _TERMINATE_RESP


@dataclass(frozen=True, slots=True)
class ActiveTest:
    """CMPP_ACTIVE_TEST (§8.4.7.1): link keep-alive probe, either direction. No body."""

    COMMAND_ID: ClassVar[int] = CommandId.ACTIVE_TEST

    def encode_body(self, version: Version) -> bytes:
        """Empty body."""
        return b""

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> ActiveTest:
        """Accept only an empty body."""
        _check_size(body, 0, "CMPP_ACTIVE_TEST")
        return _ACTIVE_TEST


@dataclass(frozen=True, slots=True)
class ActiveTestResp:
    """CMPP_ACTIVE_TEST_RESP (§8.4.7.2): one Reserved byte.

    CMPP 1.x sent no body (修订记录 2.0 item 10 changed the format); an empty body is
    accepted on receive so that old gateways do not look dead.
    """

    COMMAND_ID: ClassVar[int] = CommandId.ACTIVE_TEST_RESP

    reserved: int = 0

    def encode_body(self, version: Version) -> bytes:
        """One Reserved byte."""
        if not 0 <= self.reserved <= 0xFF:
            raise ProtocolError("Reserved must fit one byte")
        return bytes((self.reserved,))

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> ActiveTestResp:
        """One byte, or nothing from a 1.x peer."""
        if len(body) == 1:
            return cls(body[0])
        _check_size(body, 0, "CMPP_ACTIVE_TEST_RESP")
        return cls(0)


_TERMINATE = Terminate()
_TERMINATE_RESP = TerminateResp()
_ACTIVE_TEST = ActiveTest()


# ---------------------------------------------------------------------------
# §8.4.3 CMPP_SUBMIT / CMPP_SUBMIT_RESP
# ---------------------------------------------------------------------------

# §8.4.3.1 up to and including DestUsr_tl; then Dest_terminal_Id * n,
# Dest_terminal_type (3.0 only), Msg_Length, Msg_Content, LinkID (3.0) / Reserve (2.0).
_SUBMIT_HEAD_V30 = struct.Struct("!QBBBB10sB32sBBBB6s2s6s17s17s21sB")
_SUBMIT_HEAD_V20 = struct.Struct("!QBBBB10sB21sBBB6s2s6s17s17s21sB")
_SUBMIT_RESP_V30 = struct.Struct("!QI")  # §8.4.3.2: Result 4 bytes
_SUBMIT_RESP_V20 = struct.Struct("!QB")  # 2.0: Result 1 byte
_TERMINAL_V30 = 32
_TERMINAL_V20 = 21
_LINK_ID_V30 = 20
_RESERVE_V20 = 8


@dataclass(frozen=True, slots=True)
class Submit:
    """CMPP_SUBMIT (§8.4.3.1): one short message (or one segment of a long one).

    `dest_terminal_ids` holds 1..99 recipients (a group send, appendix 1).
    `link_id` is the 3.0 LinkID (20 bytes); in 2.0 the same field travels in the
    8-byte Reserve. `fee_terminal_type` and `dest_terminal_type` exist only in 3.0
    and are ignored when encoding 2.0.
    """

    COMMAND_ID: ClassVar[int] = CommandId.SUBMIT

    dest_terminal_ids: tuple[str, ...]
    msg_content: bytes
    service_id: str = ""
    src_id: str = ""
    msg_src: str = ""
    msg_fmt: int = 0
    registered_delivery: int = 0
    pk_total: int = 1
    pk_number: int = 1
    tp_udhi: int = 0
    tp_pid: int = 0
    msg_level: int = 0
    msg_id: int = 0
    fee_user_type: int = 0
    fee_terminal_id: str = ""
    fee_terminal_type: int = 0
    fee_type: str = "01"
    fee_code: str = "000000"
    valid_time: str = ""
    at_time: str = ""
    dest_terminal_type: int = 0
    link_id: str = ""

    def encode_body(self, version: Version) -> bytes:
        """Encode in the layout of `version`; raises ProtocolError for values that do
        not fit their fields (too long strings, more than 99 recipients, > 255 bytes)."""
        dests = self.dest_terminal_ids
        if not 0 < len(dests) < 100:
            raise ProtocolError("DestUsr_tl must be 1..99 (§8.4.3.1)")
        content = self.msg_content
        if len(content) > 255:
            raise ProtocolError("Msg_Content longer than 255 bytes")
        common = (
            _octets(self.service_id, 10, "Service_Id"),
            self.fee_user_type,
        )
        tail = (
            _octets(self.msg_src, 6, "Msg_src"),
            _octets(self.fee_type, 2, "FeeType"),
            _octets(self.fee_code, 6, "FeeCode"),
            _octets(self.valid_time, 17, "ValId_Time"),
            _octets(self.at_time, 17, "At_Time"),
            _octets(self.src_id, 21, "Src_Id"),
            len(dests),
        )
        if version >= _V30:
            head = _SUBMIT_HEAD_V30.pack(
                self.msg_id,
                self.pk_total,
                self.pk_number,
                self.registered_delivery,
                self.msg_level,
                *common,
                _octets(self.fee_terminal_id, 32, "Fee_terminal_Id"),
                self.fee_terminal_type,
                self.tp_pid,
                self.tp_udhi,
                self.msg_fmt,
                *tail,
            )
            width, link = _TERMINAL_V30, _LINK_ID_V30
            mid = bytes((self.dest_terminal_type, len(content)))
        else:
            head = _SUBMIT_HEAD_V20.pack(
                self.msg_id,
                self.pk_total,
                self.pk_number,
                self.registered_delivery,
                self.msg_level,
                *common,
                _octets(self.fee_terminal_id, 21, "Fee_terminal_Id"),
                self.tp_pid,
                self.tp_udhi,
                self.msg_fmt,
                *tail,
            )
            width, link = _TERMINAL_V20, _RESERVE_V20
            mid = bytes((len(content),))
        parts = [head]
        for dest in dests:
            parts.append(_octets(dest, width, "Dest_terminal_Id").ljust(width, b"\0"))
        parts.append(mid)
        parts.append(content)
        parts.append(_octets(self.link_id, link, "LinkID/Reserve").ljust(link, b"\0"))
        return b"".join(parts)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Submit:
        """Parse a SUBMIT body, checking every length against DestUsr_tl and Msg_Length."""
        if version >= _V30:
            head, width, link = _SUBMIT_HEAD_V30, _TERMINAL_V30, _LINK_ID_V30
        else:
            head, width, link = _SUBMIT_HEAD_V20, _TERMINAL_V20, _RESERVE_V20
        if len(body) < head.size:
            raise ProtocolError("CMPP_SUBMIT body too short")
        fields = head.unpack_from(body)
        count = fields[-1]
        pos = head.size
        end = pos + count * width
        dests = tuple(_text(body[i : i + width]) for i in range(pos, end, width))
        if version >= _V30:
            if len(body) < end + 2:
                raise ProtocolError("CMPP_SUBMIT body too short")
            dest_type = body[end]
            length = body[end + 1]
            pos = end + 2
        else:
            if len(body) < end + 1:
                raise ProtocolError("CMPP_SUBMIT body too short")
            dest_type = 0
            length = body[end]
            pos = end + 1
        if len(body) != pos + length + link:
            raise ProtocolError(
                f"CMPP_SUBMIT body is {len(body)} bytes, Msg_Length says {pos + length + link}"
            )
        content = body[pos : pos + length]
        link_id = _text(body[pos + length :])
        if version >= _V30:
            (msg_id, total, number, reg, level, svc, fee_ut, fee_tid, fee_tt, pid, udhi, fmt,
             src, fee_type, fee_code, valid, at, src_id, _) = fields  # fmt: skip
        else:
            (msg_id, total, number, reg, level, svc, fee_ut, fee_tid, pid, udhi, fmt,
             src, fee_type, fee_code, valid, at, src_id, _) = fields  # fmt: skip
            fee_tt = 0
        return cls(
            dest_terminal_ids=dests,
            msg_content=content,
            service_id=_text(svc),
            src_id=_text(src_id),
            msg_src=_text(src),
            msg_fmt=fmt,
            registered_delivery=reg,
            pk_total=total,
            pk_number=number,
            tp_udhi=udhi,
            tp_pid=pid,
            msg_level=level,
            msg_id=msg_id,
            fee_user_type=fee_ut,
            fee_terminal_id=_text(fee_tid),
            fee_terminal_type=fee_tt,
            fee_type=_text(fee_type),
            fee_code=_text(fee_code),
            valid_time=_text(valid),
            at_time=_text(at),
            dest_terminal_type=dest_type,
            link_id=link_id,
        )


@dataclass(frozen=True, slots=True)
class SubmitResp:
    """CMPP_SUBMIT_RESP (§8.4.3.2): the ISMG's Msg_Id for the SUBMIT and its Result
    (0 accepted, 8 flow control, others refused)."""

    COMMAND_ID: ClassVar[int] = CommandId.SUBMIT_RESP

    msg_id: int
    result: int

    def encode_body(self, version: Version) -> bytes:
        """Result is 4 bytes in 3.0, 1 byte in 2.0."""
        layout = _SUBMIT_RESP_V30 if version >= _V30 else _SUBMIT_RESP_V20
        return layout.pack(self.msg_id, self.result)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> SubmitResp:
        """Parse a SUBMIT_RESP body of the version's exact size."""
        layout = _SUBMIT_RESP_V30 if version >= _V30 else _SUBMIT_RESP_V20
        if len(body) != layout.size:
            raise ProtocolError(f"CMPP_SUBMIT_RESP body is {len(body)} bytes")
        return cls(*layout.unpack(body))


# ---------------------------------------------------------------------------
# §8.4.4 CMPP_QUERY / CMPP_QUERY_RESP (same layout in 2.0 and 3.0)
# ---------------------------------------------------------------------------

_QUERY = struct.Struct("!8sB10s8s")
_QUERY_RESP = struct.Struct("!8sB10sIIIIIIII")


@dataclass(frozen=True, slots=True)
class Query:
    """CMPP_QUERY (§8.4.4.1): traffic statistics for one day, in total or per Service_Id."""

    COMMAND_ID: ClassVar[int] = CommandId.QUERY

    time: str
    query_type: int = 0
    query_code: str = ""
    reserve: str = ""

    def encode_body(self, version: Version) -> bytes:
        """Time is YYYYMMDD."""
        return _QUERY.pack(
            _octets(self.time, 8, "Time"),
            self.query_type,
            _octets(self.query_code, 10, "Query_Code"),
            _octets(self.reserve, 8, "Reserve"),
        )

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Query:
        """Parse a QUERY body."""
        _check_size(body, _QUERY.size, "CMPP_QUERY")
        time, qtype, code, reserve = _QUERY.unpack(body)
        return cls(_text(time), qtype, _text(code), _text(reserve))


@dataclass(frozen=True, slots=True)
class QueryResp:
    """CMPP_QUERY_RESP (§8.4.4.2): MT and MO counters for the queried day."""

    COMMAND_ID: ClassVar[int] = CommandId.QUERY_RESP

    time: str
    query_type: int
    query_code: str
    mt_tlmsg: int = 0
    mt_tlusr: int = 0
    mt_scs: int = 0
    mt_wt: int = 0
    mt_fl: int = 0
    mo_scs: int = 0
    mo_wt: int = 0
    mo_fl: int = 0

    def encode_body(self, version: Version) -> bytes:
        """Same layout in both versions."""
        return _QUERY_RESP.pack(
            _octets(self.time, 8, "Time"),
            self.query_type,
            _octets(self.query_code, 10, "Query_Code"),
            self.mt_tlmsg,
            self.mt_tlusr,
            self.mt_scs,
            self.mt_wt,
            self.mt_fl,
            self.mo_scs,
            self.mo_wt,
            self.mo_fl,
        )

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> QueryResp:
        """Parse a QUERY_RESP body."""
        _check_size(body, _QUERY_RESP.size, "CMPP_QUERY_RESP")
        time, qtype, code, *counters = _QUERY_RESP.unpack(body)
        return cls(_text(time), qtype, _text(code), *counters)


# ---------------------------------------------------------------------------
# §8.4.5 CMPP_DELIVER / CMPP_DELIVER_RESP and the status report content
# ---------------------------------------------------------------------------

_DELIVER_HEAD_V30 = struct.Struct("!Q21s10sBBB32sBBB")
_DELIVER_HEAD_V20 = struct.Struct("!Q21s10sBBB21sBB")
_DELIVER_RESP_V30 = struct.Struct("!QI")
_DELIVER_RESP_V20 = struct.Struct("!QB")
_REPORT_V30 = struct.Struct("!Q7s10s10s32sI")  # 71 bytes (修订记录 3.0.0 item 28)
_REPORT_V20 = struct.Struct("!Q7s10s10s21sI")  # 60 bytes


@dataclass(frozen=True, slots=True)
class Deliver:
    """CMPP_DELIVER (§8.4.5.1): an MO message, or (registered_delivery=1) a status
    report whose content is a `StatusReport`.

    `link_id` is the 3.0 LinkID; in 2.0 it travels in the 8-byte Reserved field.
    `src_terminal_type` exists only in 3.0.
    """

    COMMAND_ID: ClassVar[int] = CommandId.DELIVER

    msg_id: int
    dest_id: str
    src_terminal_id: str
    msg_content: bytes
    service_id: str = ""
    msg_fmt: int = 0
    registered_delivery: int = 0
    tp_pid: int = 0
    tp_udhi: int = 0
    src_terminal_type: int = 0
    link_id: str = ""

    def encode_body(self, version: Version) -> bytes:
        """Encode in the layout of `version`."""
        content = self.msg_content
        if len(content) > 255:
            raise ProtocolError("Msg_Content longer than 255 bytes")
        if version >= _V30:
            head = _DELIVER_HEAD_V30.pack(
                self.msg_id,
                _octets(self.dest_id, 21, "Dest_Id"),
                _octets(self.service_id, 10, "Service_Id"),
                self.tp_pid,
                self.tp_udhi,
                self.msg_fmt,
                _octets(self.src_terminal_id, 32, "Src_terminal_Id"),
                self.src_terminal_type,
                self.registered_delivery,
                len(content),
            )
            link = _LINK_ID_V30
        else:
            head = _DELIVER_HEAD_V20.pack(
                self.msg_id,
                _octets(self.dest_id, 21, "Dest_Id"),
                _octets(self.service_id, 10, "Service_Id"),
                self.tp_pid,
                self.tp_udhi,
                self.msg_fmt,
                _octets(self.src_terminal_id, 21, "Src_terminal_Id"),
                self.registered_delivery,
                len(content),
            )
            link = _RESERVE_V20
        return head + content + _octets(self.link_id, link, "LinkID/Reserved").ljust(link, b"\0")

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Deliver:
        """Parse a DELIVER body, checking Msg_Length against the body size."""
        if version >= _V30:
            head, link = _DELIVER_HEAD_V30, _LINK_ID_V30
        else:
            head, link = _DELIVER_HEAD_V20, _RESERVE_V20
        if len(body) < head.size:
            raise ProtocolError("CMPP_DELIVER body too short")
        fields = head.unpack_from(body)
        length = fields[-1]
        if len(body) != head.size + length + link:
            raise ProtocolError(
                f"CMPP_DELIVER body is {len(body)} bytes, "
                f"Msg_Length says {head.size + length + link}"
            )
        content = body[head.size : head.size + length]
        link_id = _text(body[head.size + length :])
        if version >= _V30:
            msg_id, dest, svc, pid, udhi, fmt, src, src_type, reg, _ = fields
        else:
            msg_id, dest, svc, pid, udhi, fmt, src, reg, _ = fields
            src_type = 0
        return cls(
            msg_id=msg_id,
            dest_id=_text(dest),
            src_terminal_id=_text(src),
            msg_content=content,
            service_id=_text(svc),
            msg_fmt=fmt,
            registered_delivery=reg,
            tp_pid=pid,
            tp_udhi=udhi,
            src_terminal_type=src_type,
            link_id=link_id,
        )


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The Msg_Content of a status-report DELIVER (§8.4.5.1, second table).

    `msg_id` is the Msg_Id the ISMG gave the SUBMIT; `stat` is one of table 一
    (DELIVRD, UNDELIV, ...); the times are YYMMDDHHMM in China Standard Time.
    """

    msg_id: int
    stat: str
    submit_time: str
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int = 0

    def encode(self, version: Version) -> bytes:
        """71 bytes in 3.0, 60 bytes in 2.0 (21-byte Dest_terminal_Id)."""
        layout, width = (_REPORT_V30, 32) if version >= _V30 else (_REPORT_V20, 21)
        try:
            return layout.pack(
                self.msg_id,
                _octets(self.stat, 7, "Stat"),
                _octets(self.submit_time, 10, "Submit_time"),
                _octets(self.done_time, 10, "Done_time"),
                _octets(self.dest_terminal_id, width, "Dest_terminal_Id"),
                self.smsc_sequence,
            )
        except (struct.error, UnicodeEncodeError) as exc:
            raise ProtocolError(f"cannot encode status report: {exc}") from None

    @classmethod
    def decode(cls, content: bytes, version: Version) -> StatusReport:
        """Parse a report content; raises ProtocolError on a wrong size."""
        layout = _REPORT_V30 if version >= _V30 else _REPORT_V20
        if len(content) != layout.size:
            raise ProtocolError(
                f"status report is {len(content)} bytes, expected {layout.size} "
                f"for CMPP {version.label}"
            )
        msg_id, stat, submit, done, dest, seq = layout.unpack(content)
        return cls(msg_id, _text(stat), _text(submit), _text(done), _text(dest), seq)


@dataclass(frozen=True, slots=True)
class DeliverResp:
    """CMPP_DELIVER_RESP (§8.4.5.2): echoes the DELIVER's own Msg_Id with a Result."""

    COMMAND_ID: ClassVar[int] = CommandId.DELIVER_RESP

    msg_id: int
    result: int = 0

    def encode_body(self, version: Version) -> bytes:
        """Result is 4 bytes in 3.0, 1 byte in 2.0."""
        layout = _DELIVER_RESP_V30 if version >= _V30 else _DELIVER_RESP_V20
        return layout.pack(self.msg_id, self.result)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> DeliverResp:
        """Parse a DELIVER_RESP body of the version's exact size."""
        layout = _DELIVER_RESP_V30 if version >= _V30 else _DELIVER_RESP_V20
        if len(body) != layout.size:
            raise ProtocolError(f"CMPP_DELIVER_RESP body is {len(body)} bytes")
        return cls(*layout.unpack(body))


# ---------------------------------------------------------------------------
# §8.4.6 CMPP_CANCEL / CMPP_CANCEL_RESP
# ---------------------------------------------------------------------------

_CANCEL = struct.Struct("!Q")
_CANCEL_RESP_V30 = struct.Struct("!I")
_CANCEL_RESP_V20 = struct.Struct("!B")


@dataclass(frozen=True, slots=True)
class Cancel:
    """CMPP_CANCEL (§8.4.6.1): withdraw a submitted message by its Msg_Id."""

    COMMAND_ID: ClassVar[int] = CommandId.CANCEL

    msg_id: int

    def encode_body(self, version: Version) -> bytes:
        """8-byte Msg_Id."""
        return _CANCEL.pack(self.msg_id)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> Cancel:
        """Parse a CANCEL body."""
        _check_size(body, _CANCEL.size, "CMPP_CANCEL")
        return cls(*_CANCEL.unpack(body))


@dataclass(frozen=True, slots=True)
class CancelResp:
    """CMPP_CANCEL_RESP (§8.4.6.2): Success_Id 0 (cancelled) or 1 (failed)."""

    COMMAND_ID: ClassVar[int] = CommandId.CANCEL_RESP

    success_id: int

    def encode_body(self, version: Version) -> bytes:
        """Success_Id is 4 bytes in 3.0, 1 byte in 2.0."""
        layout = _CANCEL_RESP_V30 if version >= _V30 else _CANCEL_RESP_V20
        return layout.pack(self.success_id)

    @classmethod
    def decode_body(cls, body: bytes, version: Version) -> CancelResp:
        """Parse a CANCEL_RESP body of the version's exact size."""
        layout = _CANCEL_RESP_V30 if version >= _V30 else _CANCEL_RESP_V20
        if len(body) != layout.size:
            raise ProtocolError(f"CMPP_CANCEL_RESP body is {len(body)} bytes")
        return cls(*layout.unpack(body))


# ---------------------------------------------------------------------------
# Framing
# ---------------------------------------------------------------------------

Pdu = (
    Connect
    | ConnectResp
    | Terminate
    | TerminateResp
    | Submit
    | SubmitResp
    | Deliver
    | DeliverResp
    | Query
    | QueryResp
    | Cancel
    | CancelResp
    | ActiveTest
    | ActiveTestResp
)

_BY_COMMAND: dict[int, type] = {
    cls.COMMAND_ID: cls
    for cls in (
        Connect,
        ConnectResp,
        Terminate,
        TerminateResp,
        Submit,
        SubmitResp,
        Deliver,
        DeliverResp,
        Query,
        QueryResp,
        Cancel,
        CancelResp,
        ActiveTest,
        ActiveTestResp,
    )
}

_HEADER_PACK = HEADER.pack
_HEADER_UNPACK_FROM = HEADER.unpack_from


def encode(pdu: Pdu, sequence_id: int, version: Version) -> bytes:
    """One whole PDU: the §8.3 header followed by the body in `version`'s layout.

    Raises ProtocolError when a value does not fit its field.
    """
    try:
        body = pdu.encode_body(version)
        return _HEADER_PACK(HEADER_SIZE + len(body), pdu.COMMAND_ID, sequence_id) + body
    except (struct.error, UnicodeEncodeError, OverflowError, TypeError) as exc:
        raise ProtocolError(f"cannot encode {type(pdu).__name__}: {exc}") from None


def decode(frame: bytes, version: Version) -> tuple[int, Pdu]:
    """Decode one whole PDU (header included) into (Sequence_Id, pdu).

    Raises ProtocolError, and only ProtocolError, for anything that is not a
    well-formed SP <-> ISMG PDU of `version`: a wrong Total_Length, an unknown
    Command_Id, a body whose size does not match its layout.
    """
    if len(frame) < HEADER_SIZE:
        raise ProtocolError(f"PDU of {len(frame)} bytes is shorter than the header")
    total, command, sequence = _HEADER_UNPACK_FROM(frame)
    if total != len(frame):
        raise ProtocolError(f"Total_Length {total} but the frame has {len(frame)} bytes")
    cls = _BY_COMMAND.get(command)
    if cls is None:
        raise ProtocolError(f"unknown Command_Id 0x{command:08x}")
    try:
        return sequence, cls.decode_body(bytes(frame[HEADER_SIZE:]), version)
    except ProtocolError:
        raise
    except (struct.error, ValueError, IndexError, TypeError) as exc:  # defensive net
        raise ProtocolError(f"malformed {cls.__name__}: {exc}") from None


class FrameReader:
    """Split a TCP byte stream into whole PDUs by Total_Length (§8.3).

    `feed()` returns the complete frames received so far and keeps the rest. A
    Total_Length below the header size or above `max_size` raises ProtocolError:
    the stream cannot be resynchronised after that, so the caller closes the link.
    """

    __slots__ = ("_buffer", "max_size")

    def __init__(self, max_size: int = MAX_PDU_SIZE) -> None:
        self._buffer = bytearray()
        self.max_size = max_size

    def feed(self, data: bytes) -> list[bytes]:
        """Append received bytes; return every complete frame, in order."""
        buffer = self._buffer
        buffer += data
        frames = []
        pos = 0
        size = len(buffer)
        max_size = self.max_size
        while size - pos >= 4:
            total = int.from_bytes(buffer[pos : pos + 4], "big")
            if total < HEADER_SIZE or total > max_size:
                raise ProtocolError(f"Total_Length {total} outside {HEADER_SIZE}..{max_size}")
            if size - pos < total:
                break
            frames.append(bytes(buffer[pos : pos + total]))
            pos += total
        if pos:
            del buffer[:pos]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)
