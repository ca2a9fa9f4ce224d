"""The inference-capture record format: written by the scoring function, read by the drift job.

One S3 object per scored request (a single application or a whole batch), JSON Lines,
one record per application::

    {"captured_at": "2026-11-28T05:19:51.123456+00:00", "model_version": "3",
     "client_id_hash": "<hmac-sha256 hex>", "probability": 0.083, "decision": "approve",
     "features": {"NAME_CONTRACT_TYPE": "Cash loans", ..., "EXT_SOURCE_1": null}}

With a shadow challenger configured, a record also carries the challenger's result (the
response is always the champion's, the top-level fields)::

     "challenger": {"model_version": "4", "probability": 0.091, "decision": "decline"}

``challenger`` is null when the challenger failed to load or to score that request.

Keys are date-partitioned so the drift job lists only the days of its window:
``<prefix>dt=YYYY-MM-DD/HHMMSS-<uuid>.jsonl``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypedDict, cast

from contract.schema import FEATURE_FIELDS

DEFAULT_PREFIX = "captures/"
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


RECORD_KEYS: frozenset[str] = CaptureRecord.__required_keys__
OPTIONAL_KEYS: frozenset[str] = CaptureRecord.__optional_keys__
_FEATURE_NAMES = frozenset(f.name for f in FEATURE_FIELDS)


def day_prefix(day: date, prefix: str = DEFAULT_PREFIX) -> str:
    """The S3 prefix holding one day's captures."""
    return f"{prefix}dt={day.isoformat()}/"


def capture_key(now: datetime, prefix: str = DEFAULT_PREFIX) -> str:
    """A fresh, unique key for one request's captures, under its day's prefix."""
    return f"{day_prefix(now.date(), prefix)}{now:%H%M%S}-{uuid.uuid4().hex}.jsonl"


def encode_capture(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Serialise records (CaptureRecord dicts) as JSON Lines."""
    lines = [json.dumps(record, separators=(",", ":"), allow_nan=False) for record in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def decode_capture(body: bytes) -> list[CaptureRecord]:
    """Parse one capture object; raise ValueError if it is not a well-formed capture."""
    try:
        text = body.decode("utf-8")
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a JSON Lines capture: {exc}") from exc
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not RECORD_KEYS <= set(record) <= (
                RECORD_KEYS | OPTIONAL_KEYS):
            raise ValueError(f"record {number} does not have the capture keys")
        features = record["features"]
        if not isinstance(features, dict) or set(features) != _FEATURE_NAMES:
            raise ValueError(f"record {number} does not hold the 120 feature fields")
    return cast("list[CaptureRecord]", records)
