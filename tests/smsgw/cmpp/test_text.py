"""Msg_Fmt encodings, segmentation with a UDH, and MO reassembly."""

import pytest

from smsgw.cmpp.text import (
    ASCII,
    GBK,
    UCS2,
    Reassembler,
    decode_text,
    parse_udh,
    split_text,
)


def test_short_ascii_goes_as_msg_fmt_0():
    (seg,) = split_text("hello world", ref=1)

    assert (seg.msg_fmt, seg.tp_udhi, seg.pk_total, seg.pk_number) == (ASCII, 0, 1, 1)
    assert seg.content == b"hello world"


def test_ascii_too_long_for_one_message_goes_as_ucs2_segments():
    segs = split_text("a" * 200, ref=1)

    assert [s.msg_fmt for s in segs] == [UCS2] * 3
    assert [len(s.content) - 6 for s in segs] == [134, 134, 132]


def test_seventy_chinese_characters_fit_one_ucs2_message():
    (seg,) = split_text("中" * 70, ref=1)

    assert (seg.msg_fmt, seg.tp_udhi, len(seg.content)) == (UCS2, 0, 140)


def test_seventy_one_characters_make_two_segments_of_at_most_67():
    segs = split_text("中" * 71, ref=0x42)

    assert [(s.pk_total, s.pk_number, s.tp_udhi) for s in segs] == [(2, 1, 1), (2, 2, 1)]
    assert segs[0].content[:6] == bytes([0x05, 0x00, 0x03, 0x42, 2, 1])
    assert segs[1].content[:6] == bytes([0x05, 0x00, 0x03, 0x42, 2, 2])
    assert decode_text(UCS2, segs[0].content[6:]) == "中" * 67
    assert decode_text(UCS2, segs[1].content[6:]) == "中" * 4


def test_a_surrogate_pair_is_never_cut_in_two():
    segs = split_text("中" * 66 + "😀" + "中" * 10, ref=1)

    assert decode_text(UCS2, segs[0].content[6:]) == "中" * 66
    assert decode_text(UCS2, segs[1].content[6:]).startswith("😀")


def test_gbk_segments_never_split_a_character():
    segs = split_text("a" + "汉" * 100, ref=1, msg_fmt=GBK)

    assert all(len(s.content) <= 140 for s in segs)
    assert "".join(decode_text(GBK, s.content[6:]) for s in segs) == "a" + "汉" * 100


def test_too_many_segments_are_refused():
    with pytest.raises(ValueError):
        split_text("中" * 67 * 256, ref=1)


@pytest.mark.parametrize(
    ("udhi", "content", "expected"),
    [
        (1, bytes([5, 0, 3, 9, 3, 2]) + b"xy", (9, 3, 2, b"xy")),
        (0x40, bytes([5, 0, 3, 9, 3, 2]) + b"xy", (9, 3, 2, b"xy")),
        (1, bytes([6, 8, 4, 0x12, 0x34, 3, 1]) + b"xy", (0x1234, 3, 1, b"xy")),
        (1, bytes([8, 0x0A, 1, 0, 0, 3, 7, 2, 1]) + b"z", (7, 2, 1, b"z")),  # skips IEI 0x0A
        (0, bytes([5, 0, 3, 9, 3, 2]), (None, 1, 1, bytes([5, 0, 3, 9, 3, 2]))),
        (1, bytes([200, 0]), (None, 1, 1, bytes([200, 0]))),  # broken header: keep bytes
    ],
)
def test_udh_forms_accepted_on_receive(udhi, content, expected):
    ud = parse_udh(udhi, content)

    assert (ud.ref, ud.total, ud.seq, ud.payload) == expected


def test_decoding_never_raises():
    assert decode_text(UCS2, b"\xd8\x00") == "\ufffd"
    assert decode_text(ASCII, b"\xff") == "\ufffd"
    assert decode_text(4, b"\xff") == "\xff"


def test_reassembly_out_of_order_and_per_sender():
    parts = split_text("长短信" * 50, ref=5)
    r = Reassembler()

    assert r.feed(("A", "1069"), 1, UCS2, parts[2].content) is None
    assert r.feed(("B", "1069"), 1, UCS2, parts[0].content) is None  # other sender
    assert r.feed(("A", "1069"), 1, UCS2, parts[0].content) is None
    whole = r.feed(("A", "1069"), 1, UCS2, parts[1].content)

    assert whole.text == "长短信" * 50 and whole.parts == 3
    assert r.pending == 1


def test_reassembly_joins_bytes_before_decoding():
    data = "汉字".encode("gbk")
    first = bytes([5, 0, 3, 1, 2, 1]) + data[:1]
    second = bytes([5, 0, 3, 1, 2, 2]) + data[1:]
    r = Reassembler()

    r.feed(("A", "B"), 1, GBK, first)

    assert r.feed(("A", "B"), 1, GBK, second).text == "汉字"


def test_incomplete_messages_expire():
    now = [0.0]
    r = Reassembler(timeout=10, clock=lambda: now[0])
    r.feed(("A", "B"), 1, UCS2, split_text("中" * 100, ref=1)[0].content)

    now[0] = 11
    r.feed(("C", "D"), 0, ASCII, b"hi")

    assert (r.pending, r.expired) == (0, 1)
