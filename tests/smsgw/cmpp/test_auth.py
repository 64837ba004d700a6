"""Login authenticators: the golden vectors of the issue and how they are built."""

import hashlib
from datetime import UTC, datetime

from smsgw.cmpp.auth import (
    authenticator_ismg,
    authenticator_source,
    connect_timestamp,
    verify_source,
)
from smsgw.cmpp.pdu import ConnectResp, Version

SOURCE = bytes.fromhex("90d00c1d517abd0b4f65f6bcf8535d16")


def test_authenticator_source_golden_vector():
    assert authenticator_source("900001", "888888", 1021080510) == SOURCE


def test_authenticator_source_is_md5_of_addr_nine_zeros_secret_and_timestamp():
    # §8.4.1.1: MD5(Source_Addr + 9 bytes of 0 + shared secret + timestamp "MMDDHHMMSS")
    data = b"900001" + b"\0" * 9 + b"888888" + b"1021080510"
    expected = hashlib.md5(data).digest()  # noqa: S324 - the spec's algorithm

    assert expected == SOURCE


def test_authenticator_ismg_golden_vectors_for_both_versions():
    assert authenticator_ismg(0, SOURCE, "888888", Version.V30).hex() == (
        "7942977274098cf210ab0c16c367bc8d"
    )
    assert authenticator_ismg(0, SOURCE, "888888", Version.V20).hex() == (
        "6c0b846e25bab6daa4ed1c466e0f4bd8"
    )


def test_authenticator_ismg_hashes_status_in_its_wire_width():
    # §8.4.1.2: MD5(Status + AuthenticatorSource + shared secret); Status is the
    # 4-byte field of the 3.0 CONNECT_RESP and the 1-byte field of 2.0.
    for version, status_bytes in ((Version.V30, b"\0\0\0\0"), (Version.V20, b"\0")):
        wire_status = ConnectResp(0, bytes(16), 0x30).encode_body(version)[: len(status_bytes)]
        assert wire_status == status_bytes
        digest = hashlib.md5(status_bytes + SOURCE + b"888888").digest()  # noqa: S324
        assert authenticator_ismg(0, SOURCE, "888888", version) == digest


def test_verify_source_accepts_only_the_right_secret():
    assert verify_source("900001", "888888", 1021080510, SOURCE)
    assert not verify_source("900001", "888889", 1021080510, SOURCE)
    assert not verify_source("900001", "888888", 1021080511, SOURCE)


def test_connect_timestamp_is_china_standard_time_whatever_the_machine_zone():
    epoch = datetime(2026, 10, 21, 0, 5, 10, tzinfo=UTC).timestamp()

    assert connect_timestamp(epoch) == 1021080510  # 08:05:10 in UTC+8
