"""The inference-capture record format: written by the scoring function, read by the drift job.

One JSON line per scored application::

    {"captured_at": "2026-11-28T05:19:51.123456+00:00", "request_id": "<x-request-id>",
     "model_version": "3", "client_id_hash": "<hmac-sha256 hex>", "probability": 0.083,
     "decision": "approve",
     "features": {"NAME_CONTRACT_TYPE": "Cash loans", ..., "EXT_SOURCE_1": null}}

The scoring function sends the lines to Amazon Data Firehose, which concatenates them into
gzip-compressed objects under an hourly prefix (the delivery stream's configuration in
template.yaml): ``<prefix>dt=YYYY-MM-DD/hour=HH/<stream>-<n>-<timestamp>-<uuid>.gz``.
The drift job lists one hour's prefix at a time (:func:`hour_prefix`).

With a shadow challenger configured, a record also carries the challenger's result (the
response is always the champion's, the top-level fields)::

     "challenger": {"model_version": "4", "probability": 0.091, "decision": "decline"}

``challenger`` is null when the challenger failed to load or to score that request.

Records written since outcomes analysis also carry ``hash_key_id``, the id of the key that
made ``client_id_hash`` (:func:`hash_key_id`): the outcome loader hashes SK_ID_CURR with the
same key (:func:`client_hash`), and the join matches hashes of the same key id only, so a key
rotation never pairs hashes of different keys (docs/outcomes.md, "Key rotation").
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypedDict, cast

from contract.schema import FEATURE_FIELDS

DEFAULT_PREFIX = "captures/"
#: Where Firehose writes what it could not deliver (relative to the bucket root).
DEFAULT_ERROR_PREFIX = "capture-errors/"
#: A scored application's decision (decline iff its probability reaches the threshold).
Decision = Literal["approve", "decline"]


class ChallengerResult(TypedDict):
    """The shadow challenger's answer for the same application."""

    model_version: str
    probability: float
    decision: Decision


class _RequiredRecord(TypedDict):
    """The fields every capture record has."""

    #: When the request was scored: ISO 8601, UTC.
    captured_at: str
    #: The request's id (x-request-id, the request log line's request_id).
    request_id: str
    model_version: str
    #: HMAC-SHA256 hex of str(SK_ID_CURR); the id itself is never stored.
    client_id_hash: str
    probability: float
    decision: Decision
    #: The 120 applicant fields as validated (null = missing); no SK_ID_CURR.
    features: dict[str, Any]


class CaptureRecord(_RequiredRecord, total=False):
    """One line of a capture object: one scored application."""

    #: Only when a shadow challenger is configured (null: it failed on this request).
    challenger: ChallengerResult | None
    #: The id of the key that made client_id_hash (:func:`hash_key_id`).
    hash_key_id: str


RECORD_KEYS: frozenset[str] = CaptureRecord.__required_keys__
OPTIONAL_KEYS: frozenset[str] = CaptureRecord.__optional_keys__
_FEATURE_NAMES = frozenset(f.name for f in FEATURE_FIELDS)
_GZIP_MAGIC = b"\x1f\x8b"
_READ_BYTES = 16 * 1024
#: One application is a few KB; a longer line is not a capture record.
MAX_LINE_BYTES = 1024 * 1024


#: What the key id is an HMAC of: a fixed label, so the id names the key but reveals nothing
#: about any client hash.
_KEY_ID_LABEL = b"credit-scoring/capture-hash-key-id"


def client_hash(key: bytes, client_id: int | str) -> str:
    """HMAC-SHA256 hex of ``str(SK_ID_CURR)``: the only form in which a client id is stored."""
    return hmac.new(key, str(client_id).encode("ascii"), hashlib.sha256).hexdigest()


def hash_key_id(key: bytes) -> str:
    """A short public id of a hash key (16 hex digits), the same wherever the key is used."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def day_prefix(day: date, prefix: str = DEFAULT_PREFIX) -> str:
    """The S3 prefix holding one UTC day's captures."""
    return f"{prefix}dt={day.isoformat()}/"


def hour_prefix(day: date, hour: int, prefix: str = DEFAULT_PREFIX) -> str:
    """The S3 prefix holding one UTC hour's captures (Firehose's ``!{timestamp:...}``)."""
    if not 0 <= hour < 24:
        raise ValueError(f"hour must be 0..23, got {hour}")
    return f"{day_prefix(day, prefix)}hour={hour:02d}/"


def firehose_prefix(prefix: str = DEFAULT_PREFIX) -> str:
    """The delivery stream's S3 prefix expression that yields :func:`hour_prefix` keys."""
    return f"{prefix}dt=!{{timestamp:yyyy-MM-dd}}/hour=!{{timestamp:HH}}/"


def firehose_key(when: datetime, stream: str, serial: int, prefix: str = DEFAULT_PREFIX) -> str:
    """A key of the shape Firehose writes (for emulators and benchmarks)."""
    return (f"{hour_prefix(when.date(), when.hour, prefix)}{stream}-1-"
            f"{when:%Y-%m-%d-%H-%M-%S}-{serial:08x}-0000-4000-8000-000000000000.gz")


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One record (a dict with RECORD_KEYS) as one JSON line, newline included."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


def encode_capture(records: Any) -> bytes:
    """Records as JSON Lines (what Firehose concatenates into one object, before gzip)."""
    return b"".join(encode_record(record) for record in records)


def check_record(record: Any, number: int = 1) -> CaptureRecord:
    """``record`` if it has the capture keys and the 120 feature fields; else ValueError."""
    if not isinstance(record, dict) or not RECORD_KEYS <= set(record) <= (
            RECORD_KEYS | OPTIONAL_KEYS):
        raise ValueError(f"record {number} does not have the capture keys")
    features = record["features"]
    if not isinstance(features, dict) or set(features) != _FEATURE_NAMES:
        raise ValueError(f"record {number} does not hold the 120 feature fields")
    return cast("CaptureRecord", record)


class _Raw(io.RawIOBase):
    """Any object with ``read(n)`` (a botocore StreamingBody) as a raw binary stream."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Gunzip(io.RawIOBase):
    """Decompress a gzip stream (one or more members) as it is read, pulling compressed
    bytes from ``source`` in small chunks: what is read is about what was decompressed."""

    def __init__(self, source: io.BufferedIOBase) -> None:
        self._source = source
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._inflate.eof:
                data = self._inflate.unused_data or self._source.read(_READ_BYTES)
                if not data:
                    return 0
                self._inflate = zlib.decompressobj(wbits=31)
            else:
                data = self._inflate.unconsumed_tail or self._source.read(_READ_BYTES)
                if not data:
                    raise EOFError("the gzip stream ends before its end marker")
            self._pending = self._inflate.decompress(data, len(buffer))
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def open_lines(body: Any) -> io.BufferedIOBase:
    """A binary stream of JSON lines from a capture object's body (anything with
    ``read(n)``), gzip or plain: a gzip body (Firehose's GZIP compression) is decompressed
    as it is read, never whole, and only about as much as is read is downloaded."""
    buffered = io.BufferedReader(_Raw(body), buffer_size=_READ_BYTES)
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(_Gunzip(buffered), buffer_size=_READ_BYTES)
    return buffered


def iter_records(stream: io.BufferedIOBase, limit: int | None = None
                 ) -> Iterator[CaptureRecord]:
    """Parse and check records line by line (at most ``limit``); ValueError on a bad one.

    Only the lines consumed are read (and decompressed): memory stays at one line, itself
    capped at MAX_LINE_BYTES.
    """
    number = 0
    try:
        while limit is None or number < limit:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES:
                raise ValueError(f"record {number + 1} is longer than {MAX_LINE_BYTES} bytes")
            if not line.strip():
                continue
            number += 1
            yield check_record(json.loads(line), number)
    except (UnicodeDecodeError, json.JSONDecodeError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"not a JSON Lines capture: {type(exc).__name__}: {exc}") from exc


def decode_capture(body: bytes) -> list[CaptureRecord]:
    """Parse one whole capture object (gzip or plain); ValueError if it is malformed."""
    return list(iter_records(open_lines(io.BytesIO(body))))
