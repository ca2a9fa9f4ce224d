"""contract.capture_format: the capture record the scoring function writes and the drift job
reads: keys, JSON Lines encoding and the checks on decode."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contract.capture_format import (
    DEFAULT_PREFIX,
    RECORD_KEYS,
    day_prefix,
    decode_capture,
    encode_capture,
    firehose_key,
    firehose_prefix,
    hour_prefix,
    iter_records,
    open_lines,
)
from contract.schema import FEATURE_FIELDS


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "captured_at": "2026-11-28T05:19:51.123456+00:00",
        "request_id": "4b1d7e2f9a0c",
        "model_version": "3",
        "client_id_hash": "ab" * 32,
        "probability": 0.083,
        "decision": "approve",
        "features": {f.name: None for f in FEATURE_FIELDS},
    }
    record["features"]["NAME_CONTRACT_TYPE"] = "Cash loans"
    record["features"]["AMT_CREDIT"] = 512_000.0
    return {**record, **changes}


def test_record_keys():
    assert {"captured_at", "request_id", "model_version", "client_id_hash", "probability",
            "decision", "features"} == RECORD_KEYS


def test_keys_are_partitioned_by_hour_as_firehose_writes_them():
    assert DEFAULT_PREFIX == "captures/"
    assert day_prefix(date(2026, 11, 28)) == "captures/dt=2026-11-28/"
    assert hour_prefix(date(2026, 1, 2), 7, "live/") == "live/dt=2026-01-02/hour=07/"
    assert firehose_prefix() == "captures/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    now = datetime(2026, 11, 28, 5, 19, 51, tzinfo=UTC)
    key = firehose_key(now, "stream", 1)
    assert key.startswith(hour_prefix(now.date(), 5)) and key.endswith(".gz")
    assert firehose_key(now, "stream", 2) != key
    with pytest.raises(ValueError):
        hour_prefix(date(2026, 1, 2), 24)


def test_gzip_bodies_are_stream_decoded_and_a_limit_stops_early():
    records = [_record(probability=i / 10) for i in range(10)]
    body = gzip.compress(encode_capture(records))
    assert decode_capture(body) == records
    first = list(iter_records(open_lines(_Chunks(body)), limit=3))
    assert [r["probability"] for r in first] == [0.0, 0.1, 0.2]


class _Chunks:
    """A body that hands out at most 7 bytes per read (as a network stream may)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        size = 7 if size < 0 else min(size, 7)
        chunk, self.data = self.data[:size], self.data[size:]
        return chunk


def test_round_trip_is_one_compact_line_per_record():
    records = [_record(), _record(probability=0.5, decision="decline")]
    body = encode_capture(records)
    assert body.endswith(b"\n") and body.count(b"\n") == 2
    assert b", " not in body and b": " not in body
    assert decode_capture(body) == records
    assert json.loads(body.splitlines()[1])["decision"] == "decline"


def test_non_finite_probabilities_are_not_encoded():
    with pytest.raises(ValueError):
        encode_capture([_record(probability=float("nan"))])


def test_blank_lines_are_ignored():
    body = encode_capture([_record()])
    assert decode_capture(b"\n" + body + b"\n  \n") == [_record()]


@pytest.mark.parametrize(("body", "message"), [
    (b"\xff\xfe", "not a JSON Lines capture"),
    (b'{"captured_at": ', "not a JSON Lines capture"),
    (b"[1, 2]\n", "record 1 does not have the capture keys"),
    (b"\x1f\x8b" + b"not gzip" * 4, "not a JSON Lines capture"),
    (b"x" * (2 * 1024 * 1024), "longer than"),
])
def test_undecodable_bodies(body, message):
    with pytest.raises(ValueError, match=message):
        decode_capture(body)


def test_a_record_must_have_exactly_the_keys():
    extra = encode_capture([_record(), _record(client_id="100002")])
    with pytest.raises(ValueError, match="record 2 does not have the capture keys"):
        decode_capture(extra)
    missing = {k: v for k, v in _record().items() if k != "model_version"}
    with pytest.raises(ValueError, match="record 1 does not have the capture keys"):
        decode_capture(encode_capture([missing]))


def test_features_must_be_the_120_applicant_fields():
    """The raw id is never stored: a record holding SK_ID_CURR is not a capture."""
    with_id = _record()
    with_id["features"] = {**with_id["features"], "SK_ID_CURR": 100002}
    short = _record()
    del short["features"]["AMT_CREDIT"]
    for bad in (with_id, short, _record(features=None)):
        with pytest.raises(ValueError, match="record 1 does not hold the 120 feature fields"):
            decode_capture(encode_capture([bad]))


def test_the_challenger_result_is_optional_and_round_trips():
    from contract.capture_format import OPTIONAL_KEYS

    assert {"challenger", "hash_key_id"} == OPTIONAL_KEYS and "challenger" not in RECORD_KEYS
    shadow = {"model_version": "4", "probability": 0.05, "decision": "approve"}
    records = [_record(), _record(challenger=shadow), _record(challenger=None)]
    decoded = decode_capture(encode_capture(records))
    assert [r.get("challenger", "absent") for r in decoded] == ["absent", shadow, None]
    with pytest.raises(ValueError, match="record 1 does not have the capture keys"):
        decode_capture(encode_capture([_record(shadow=shadow)]))


def test_the_hash_key_id_names_the_key_and_reveals_no_hash():
    from contract.capture_format import client_hash, hash_key_id

    assert hash_key_id(b"k1") == hash_key_id(b"k1") != hash_key_id(b"k2")
    assert len(hash_key_id(b"k1")) == 16
    assert client_hash(b"k1", 100002) == client_hash(b"k1", "100002") != client_hash(b"k2", 100002)
    assert not client_hash(b"k1", 100002).startswith(hash_key_id(b"k1"))
    records = decode_capture(encode_capture([_record(hash_key_id=hash_key_id(b"k1"))]))
    assert records[0]["hash_key_id"] == hash_key_id(b"k1")
