"""The 64-bit Msg_Id of §8.4.3.2 / §8.4.5.1 and China Standard Time helpers.

Layout, most significant bit first (the spec numbers bits 64..1):

    bits 64-61 month (4)   bits 60-56 day (5)     bits 55-51 hour (5)
    bits 50-45 minute (6)  bits 44-39 second (6)  bits 38-17 ISMG id (22)
    bits 16-1  sequence (16), incremented by 1 and wrapping

All time fields are China Standard Time (UTC+8). The offset is fixed rather than
taken from the machine's zone so that a server running in UTC still stamps ids and
reports the way every ISMG in China does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = [
    "CST",
    "MsgIdGenerator",
    "MsgIdParts",
    "now_cst",
    "pack_msg_id",
    "unpack_msg_id",
]

CST = timezone(timedelta(hours=8), "CST")

_MAX_ISMG_ID = (1 << 22) - 1
_SEQUENCE_SPAN = 1 << 16


def now_cst(epoch: float | None = None) -> datetime:
    """The current (or given POSIX) time as an aware datetime in UTC+8."""
    return datetime.fromtimestamp(time.time() if epoch is None else epoch, CST)


@dataclass(frozen=True, slots=True)
class MsgIdParts:
    """The fields packed into a Msg_Id."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    ismg_id: int
    sequence: int


def pack_msg_id(
    month: int, day: int, hour: int, minute: int, second: int, ismg_id: int, sequence: int
) -> int:
    """Build a Msg_Id from its fields (§8.4.3.2); raises ValueError when one overflows."""
    limits = ((month, 15), (day, 31), (hour, 31), (minute, 63), (second, 63))
    if any(not 0 <= v <= top for v, top in limits):
        raise ValueError("time field out of range for the Msg_Id layout")
    if not 0 <= ismg_id <= _MAX_ISMG_ID:
        raise ValueError("ISMG id must fit 22 bits")
    if not 0 <= sequence < _SEQUENCE_SPAN:
        raise ValueError("sequence must fit 16 bits")
    return (
        month << 60
        | day << 55
        | hour << 50
        | minute << 44
        | second << 38
        | ismg_id << 16
        | sequence
    )


def unpack_msg_id(msg_id: int) -> MsgIdParts:
    """Split a Msg_Id into its fields (§8.4.3.2)."""
    return MsgIdParts(
        month=(msg_id >> 60) & 0xF,
        day=(msg_id >> 55) & 0x1F,
        hour=(msg_id >> 50) & 0x1F,
        minute=(msg_id >> 44) & 0x3F,
        second=(msg_id >> 38) & 0x3F,
        ismg_id=(msg_id >> 16) & _MAX_ISMG_ID,
        sequence=msg_id & 0xFFFF,
    )


class MsgIdGenerator:
    """Issue Msg_Ids for one ISMG: CST time of issue, the ISMG id, a wrapping sequence.

    `reserve(n)` hands out a block Msg_Id .. Msg_Id+n-1 for a group SUBMIT
    (appendix 1). A block never straddles the 16-bit wrap, so Msg_Id + k is both
    plain integer arithmetic and the k-th sequence number, and no id of the block
    is reused by a later SUBMIT_RESP before the sequence comes round again.
    """

    def __init__(self, ismg_id: int, clock=time.time) -> None:
        if not 0 <= ismg_id <= _MAX_ISMG_ID:
            raise ValueError("ISMG id must fit 22 bits")
        self.ismg_id = ismg_id
        self._clock = clock
        self._sequence = 0
        self._second = -1
        self._time_bits = 0

    def _time_part(self) -> int:
        now = self._clock()
        second = int(now)
        if second != self._second:
            t = now_cst(second)
            self._second = second
            self._time_bits = (
                t.month << 60 | t.day << 55 | t.hour << 50 | t.minute << 44 | t.second << 38
            )
        return self._time_bits

    def reserve(self, count: int = 1) -> int:
        """Return the first Msg_Id of a block of `count` consecutive ids (1..65536)."""
        if not 1 <= count <= _SEQUENCE_SPAN:
            raise ValueError("count must be 1..65536")
        if self._sequence + count > _SEQUENCE_SPAN:
            self._sequence = 0
        first = self._sequence
        self._sequence = (first + count) % _SEQUENCE_SPAN
        return self._time_part() | self.ismg_id << 16 | first

    def next(self) -> int:
        """Return one new Msg_Id."""
        return self.reserve(1)
