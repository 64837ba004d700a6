"""Codec: round trips for every PDU in both versions, exact sizes, framing, fuzzing."""

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgw.cmpp.pdu import (
    HEADER_SIZE,
    MAX_PDU_SIZE,
    ActiveTest,
    ActiveTestResp,
    Cancel,
    CancelResp,
    CommandId,
    Connect,
    ConnectResp,
    Deliver,
    DeliverResp,
    FrameReader,
    ProtocolError,
    Query,
    QueryResp,
    StatusReport,
    Submit,
    SubmitResp,
    Terminate,
    TerminateResp,
    Version,
    decode,
    encode,
)

BOTH = [Version.V20, Version.V30]

SAMPLES = [
    Connect("900001", bytes(range(16)), 0x30, 1021080510),
    ConnectResp(0, bytes(range(16, 32)), 0x30),
    ConnectResp(3, bytes(16), 0x20),
    Terminate(),
    TerminateResp(),
    Submit(
        dest_terminal_ids=("13800138000", "8613900139000"),
        msg_content="你好".encode("utf-16-be"),
        service_id="MAS0001",
        src_id="1069000001234",
        msg_src="900001",
        msg_fmt=8,
        registered_delivery=1,
        pk_total=2,
        pk_number=1,
        tp_udhi=1,
        tp_pid=0,
        msg_level=1,
        msg_id=0,
        fee_user_type=3,
        fee_terminal_id="13700137000",
        fee_type="02",
        fee_code="10",
        valid_time="261231235959032+",
        at_time="",
        link_id="LINK1234",
    ),
    SubmitResp(0x1234_5678_9ABC_DEF0, 0),
    SubmitResp(1, 8),
    Deliver(
        msg_id=42,
        dest_id="106900011234",
        src_terminal_id="13800138000",
        msg_content=b"hello",
        service_id="MAS0001",
        msg_fmt=0,
        link_id="LINK",
    ),
    DeliverResp(42, 0),
    Query("20261125", 1, "MAS0001"),
    QueryResp("20261125", 0, "", 1, 2, 3, 4, 5, 6, 7, 8),
    Cancel(77),
    CancelResp(1),
    ActiveTest(),
    ActiveTestResp(),
]

# Body sizes straight from the field tables: §8.4.x for 3.0, 修订记录 for 2.0.
SIZES = {
    (Connect, Version.V30): 27,
    (Connect, Version.V20): 27,
    (ConnectResp, Version.V30): 4 + 16 + 1,
    (ConnectResp, Version.V20): 1 + 16 + 1,
    (SubmitResp, Version.V30): 12,
    (SubmitResp, Version.V20): 9,
    (DeliverResp, Version.V30): 12,
    (DeliverResp, Version.V20): 9,
    (CancelResp, Version.V30): 4,
    (CancelResp, Version.V20): 1,
    (Query, Version.V30): 27,
    (QueryResp, Version.V20): 51,
    (ActiveTestResp, Version.V30): 1,
    (Terminate, Version.V20): 0,
}


@pytest.mark.parametrize("version", BOTH, ids=["2.0", "3.0"])
@pytest.mark.parametrize("pdu", SAMPLES, ids=lambda p: type(p).__name__)
def test_every_pdu_survives_a_round_trip(pdu, version):
    frame = encode(pdu, 0xFFFFFFFF, version)

    assert struct.unpack("!III", frame[:12]) == (len(frame), pdu.COMMAND_ID, 0xFFFFFFFF)
    assert decode(frame, version) == (0xFFFFFFFF, pdu)


@pytest.mark.parametrize(("cls", "version"), list(SIZES))
def test_fixed_bodies_have_the_sizes_of_the_spec(cls, version):
    pdu = next(p for p in SAMPLES if type(p) is cls)

    assert len(pdu.encode_body(version)) == SIZES[(cls, version)]


def test_submit_layout_per_version():
    pdu = Submit(dest_terminal_ids=("13800138000",) * 3, msg_content=b"x" * 10)

    # 3.0: 129 fixed bytes up to DestUsr_tl, 32 per recipient, type + length, LinkID 20.
    assert len(pdu.encode_body(Version.V30)) == 129 + 3 * 32 + 2 + 10 + 20
    # 2.0: 117 fixed bytes, 21 per recipient, length, Reserve 8.
    assert len(pdu.encode_body(Version.V20)) == 117 + 3 * 21 + 1 + 10 + 8


def test_deliver_and_report_layout_per_version():
    report = StatusReport(7, "DELIVRD", "2611251200", "2611251201", "13800138000", 99)

    assert len(report.encode(Version.V30)) == 71
    assert len(report.encode(Version.V20)) == 60
    assert StatusReport.decode(report.encode(Version.V20), Version.V20) == report
    deliver = Deliver(1, "1069", "13800138000", report.encode(Version.V30), registered_delivery=1)
    assert len(deliver.encode_body(Version.V30)) == 77 + 71 + 20
    assert len(Deliver(1, "1069", "138", b"").encode_body(Version.V20)) == 65 + 8


def test_version_byte_and_status_width():
    assert Version.V20 == 0x20 and Version.V30 == 0x30
    assert Version.parse("2.0") is Version.V20 and Version.V30.label == "3.0"
    body = ConnectResp(4, bytes(16), 0x30).encode_body(Version.V30)
    assert body[:4] == b"\x00\x00\x00\x04"
    assert ConnectResp(4, bytes(16), 0x20).encode_body(Version.V20)[0] == 4


def test_connect_resp_width_is_taken_from_its_length():
    # A 2.0 server refusing a 3.0 client answers in 2.0 layout; the client must read it.
    frame = encode(ConnectResp(4, bytes(16), 0x20), 1, Version.V20)

    assert decode(frame, Version.V30)[1].status == 4


def test_octet_strings_are_nul_padded_and_stripped():
    body = Query("2026", 0, "ab").encode_body(Version.V30)

    assert body[:8] == b"2026\0\0\0\0"
    assert Query.decode_body(body, Version.V30).time == "2026"


@pytest.mark.parametrize(
    "pdu",
    [
        Submit(dest_terminal_ids=("1" * 33,), msg_content=b""),
        Submit(dest_terminal_ids=(), msg_content=b""),
        Submit(dest_terminal_ids=("1",) * 100, msg_content=b""),
        Submit(dest_terminal_ids=("1",), msg_content=b"x" * 256),
        Submit(dest_terminal_ids=("1",), msg_content=b"", service_id="01234567890"),
        Submit(dest_terminal_ids=("1",), msg_content=b"", src_id="号码"),
        SubmitResp(1, 256),  # Result is one byte in 2.0
    ],
)
def test_values_that_do_not_fit_raise_protocol_error(pdu):
    with pytest.raises(ProtocolError):
        encode(pdu, 1, Version.V20)


def test_an_active_test_resp_without_body_is_accepted():
    frame = struct.pack("!III", 12, CommandId.ACTIVE_TEST_RESP, 5)

    assert decode(frame, Version.V30) == (5, ActiveTestResp(0))


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x00\x00\x00\x0c\x00\x00\x00\x04",
        struct.pack("!III", 13, CommandId.ACTIVE_TEST, 1),
        struct.pack("!III", 12, 0x00000099, 1),
        struct.pack("!III", 12, CommandId.SUBMIT, 1),
        struct.pack("!III", 21, CommandId.SUBMIT_RESP, 1) + bytes(9),
        encode(Deliver(1, "1", "2", b"abc"), 1, Version.V30)[:-1],
    ],
)
def test_malformed_frames_raise_protocol_error(frame):
    with pytest.raises(ProtocolError):
        decode(frame, Version.V30)


def test_submit_with_wrong_msg_length_is_rejected():
    body = bytearray(Submit(dest_terminal_ids=("1",), msg_content=b"abc").encode_body(Version.V30))
    body[129 + 32 + 1] = 200  # Msg_Length claims more than the body holds

    with pytest.raises(ProtocolError):
        Submit.decode_body(bytes(body), Version.V30)


def test_a_3_0_pdu_is_not_silently_read_as_2_0():
    frame = encode(SubmitResp(1, 0), 1, Version.V30)

    with pytest.raises(ProtocolError):
        decode(frame, Version.V20)


def test_frame_reader_reassembles_a_byte_stream():
    frames = [encode(p, i, Version.V30) for i, p in enumerate(SAMPLES)]
    stream = b"".join(frames)
    reader = FrameReader()

    got = []
    for i in range(0, len(stream), 7):
        got.extend(reader.feed(stream[i : i + 7]))

    assert got == frames and reader.pending == 0


@pytest.mark.parametrize("total", [0, 11, MAX_PDU_SIZE + 1, 0xFFFFFFFF])
def test_frame_reader_rejects_impossible_lengths(total):
    with pytest.raises(ProtocolError):
        FrameReader().feed(struct.pack("!I", total) + bytes(8))


# -- property tests -----------------------------------------------------------

versions = st.sampled_from(BOTH)
commands = st.sampled_from([int(c) for c in CommandId] + [0, 3, 0x80000000, 0xFFFFFFFF])


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=700), version=versions)
def test_decoding_arbitrary_bytes_raises_only_protocol_error(data, version):
    with contextlib.suppress(ProtocolError):
        decode(data, version)


@settings(max_examples=1500, deadline=None)
@given(command=commands, sequence=st.integers(0, 2**32 - 1), body=st.binary(max_size=400),
       version=versions)  # fmt: skip
def test_decoding_well_framed_garbage_raises_only_protocol_error(command, sequence, body, version):
    frame = struct.pack("!III", HEADER_SIZE + len(body), command, sequence) + body
    with contextlib.suppress(ProtocolError):
        decode(frame, version)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=64), max_size=20))
def test_frame_reader_raises_only_protocol_error(chunks):
    reader = FrameReader()
    try:
        for chunk in chunks:
            for frame in reader.feed(chunk):
                with contextlib.suppress(ProtocolError):
                    decode(frame, Version.V30)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 20), seq=st.integers(0, 2**32 - 1), version=versions,
       body=st.binary(max_size=400))  # fmt: skip
def test_status_report_decoder_raises_only_protocol_error(count, seq, version, body):
    with contextlib.suppress(ProtocolError):
        StatusReport.decode(body, version)


digits = st.text(alphabet="0123456789", max_size=21)
short = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    version=versions,
    dests=st.lists(digits, min_size=1, max_size=99).map(tuple),
    content=st.binary(max_size=255),
    numbers=st.tuples(*[st.integers(0, 255)] * 8),
    msg_id=st.integers(0, 2**64 - 1),
    svc=short,
    src=digits,
)
def test_any_submit_survives_a_round_trip(version, dests, content, numbers, msg_id, svc, src):
    total, number, reg, level, fee_ut, pid, udhi, fmt = numbers
    pdu = Submit(
        dest_terminal_ids=dests,
        msg_content=content,
        service_id=svc,
        src_id=src,
        msg_src=svc,
        msg_fmt=fmt,
        registered_delivery=reg,
        pk_total=total,
        pk_number=number,
        tp_udhi=udhi,
        tp_pid=pid,
        msg_level=level,
        msg_id=msg_id,
        fee_user_type=fee_ut,
        fee_terminal_type=1 if version == Version.V30 else 0,
        dest_terminal_type=1 if version == Version.V30 else 0,
        link_id=svc,
    )

    assert decode(encode(pdu, 9, version), version) == (9, pdu)


@settings(max_examples=200, deadline=None)
@given(version=versions, content=st.binary(max_size=255), msg_id=st.integers(0, 2**64 - 1),
       src=digits, reg=st.integers(0, 1))  # fmt: skip
def test_any_deliver_survives_a_round_trip(version, content, msg_id, src, reg):
    pdu = Deliver(msg_id, "10690001", src, content, registered_delivery=reg)

    assert decode(encode(pdu, 3, version), version) == (3, pdu)
