"""Msg_Id layout (§8.4.3.2) and its generator."""

from datetime import UTC, datetime

import pytest

from smsgw.cmpp.msgid import MsgIdGenerator, MsgIdParts, now_cst, pack_msg_id, unpack_msg_id


def test_fields_sit_in_the_bits_of_the_spec():
    msg_id = pack_msg_id(12, 31, 23, 59, 59, 0x3FFFFF, 0xFFFF)

    assert msg_id >> 60 == 12  # bits 64-61 month
    assert (msg_id >> 55) & 0x1F == 31  # bits 60-56 day
    assert (msg_id >> 50) & 0x1F == 23  # bits 55-51 hour
    assert (msg_id >> 44) & 0x3F == 59  # bits 50-45 minute
    assert (msg_id >> 38) & 0x3F == 59  # bits 44-39 second
    assert (msg_id >> 16) & 0x3FFFFF == 0x3FFFFF  # bits 38-17 ISMG id
    assert msg_id & 0xFFFF == 0xFFFF  # bits 16-1 sequence
    assert unpack_msg_id(msg_id) == MsgIdParts(12, 31, 23, 59, 59, 0x3FFFFF, 0xFFFF)


def test_out_of_range_fields_are_refused():
    with pytest.raises(ValueError):
        pack_msg_id(1, 1, 1, 1, 1, 1 << 22, 0)
    with pytest.raises(ValueError):
        pack_msg_id(16, 1, 1, 1, 1, 0, 0)


def test_generator_stamps_china_standard_time():
    epoch = datetime(2026, 3, 4, 20, 6, 7, tzinfo=UTC).timestamp()  # 04:06:07 on 5 March CST
    gen = MsgIdGenerator(ismg_id=79101, clock=lambda: epoch)

    parts = unpack_msg_id(gen.next())

    assert (parts.month, parts.day, parts.hour, parts.minute, parts.second) == (3, 5, 4, 6, 7)
    assert parts.ismg_id == 79101
    assert now_cst(epoch).utcoffset().total_seconds() == 8 * 3600


def test_group_blocks_are_consecutive_and_never_reused():
    gen = MsgIdGenerator(ismg_id=1, clock=lambda: 0.0)

    first = gen.reserve(3)
    following = gen.next()

    assert [unpack_msg_id(first + k).sequence for k in range(3)] == [0, 1, 2]
    assert following == first + 3


def test_a_block_does_not_straddle_the_sequence_wrap():
    gen = MsgIdGenerator(ismg_id=1, clock=lambda: 0.0)
    gen.reserve(65534)

    block = gen.reserve(5)

    assert unpack_msg_id(block).sequence == 0
    assert unpack_msg_id(block + 4).sequence == 4
