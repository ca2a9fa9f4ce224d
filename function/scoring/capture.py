"""Inference capture, read by the drift job (record format: contract.capture_format).

When CAPTURE_STREAM (a Firehose delivery stream) is set, every scored application becomes one
JSON line handed to the producer (scoring.firehose): building and buffering the lines is all
the request path does; the producer thread sends them to Firehose, which writes hourly,
gzip-compressed objects to the capture bucket.

SK_ID_CURR is never stored: records carry HMAC-SHA256(CAPTURE_HASH_KEY, str(SK_ID_CURR)).
Without CAPTURE_HASH_KEY a random key is drawn per process, so hashes then link requests only
within one execution environment (set the key, e.g. from a secret, to join captures with
outcomes later). Each record carries the request's id (the x-request-id header and the
request log line's ``request_id``), so captures join with logs and outcomes.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contract.capture_format import client_hash, encode_record, hash_key_id
from contract.schema import ID_FIELD
from scoring import logs
from scoring.firehose import FirehoseProducer, empty_counts

if TYPE_CHECKING:
    from contract.capture_format import CaptureRecord, Decision
    from scoring.firehose import FirehoseClient
    from scoring.shapes import CaptureCounts, CaptureOutcome


def empty_stats() -> CaptureCounts:
    """The /health capture counters when capture is off."""
    return empty_counts()


class CaptureWriter:
    """Encodes capture records and hands them to the Firehose producer; never raises."""

    def __init__(
        self,
        stream: str,
        hash_key: bytes | None,
        *,
        buffer_bytes: int,
        interval_s: float,
        client_factory: Callable[[], FirehoseClient] | None = None,
    ) -> None:
        self.random_key = hash_key is None
        self._key = hash_key if hash_key is not None else secrets.token_bytes(32)
        self.key_id = hash_key_id(self._key)
        self.producer = FirehoseProducer(stream, buffer_bytes=buffer_bytes,
                                         interval_s=interval_s, client_factory=client_factory)

    # -- set-up ------------------------------------------------------------------------------
    def warm(self) -> None:
        """Create the Firehose client now (at cold start / before a SnapStart snapshot)."""
        try:
            self.producer.client()
        except Exception as exc:
            logs.emit("capture_client_error", logging.WARNING, error=type(exc).__name__)

    def reset_client(self) -> None:
        self.producer.reset_client()

    def stats(self) -> CaptureCounts:
        return self.producer.stats()

    # -- records -----------------------------------------------------------------------------
    def hash_id(self, client_id: int) -> str:
        return client_hash(self._key, client_id)

    def lines(
        self,
        apps: Sequence[Mapping[str, Any]],
        probabilities: Sequence[float],
        decisions: Sequence[Decision],
        model_version: str,
        request_id: str,
    ) -> list[bytes]:
        now = datetime.now(UTC).isoformat()
        records: list[CaptureRecord] = [
            {
                "captured_at": now,
                "request_id": request_id,
                "model_version": model_version,
                "client_id_hash": self.hash_id(app[ID_FIELD]),
                "probability": probability,
                "decision": decision,
                "features": {k: v for k, v in app.items() if k != ID_FIELD},
                "hash_key_id": self.key_id,
            }
            for app, probability, decision in zip(apps, probabilities, decisions, strict=True)
        ]
        return [encode_record(record) for record in records]

    def capture(
        self,
        apps: Sequence[Mapping[str, Any]],
        probabilities: Sequence[float],
        decisions: Sequence[Decision],
        model_version: str,
        request_id: str,
    ) -> CaptureOutcome:
        """Buffer one request's records: "buffered", "dropped" or "failed" (for the log)."""
        try:
            lines = self.lines(apps, probabilities, decisions, model_version, request_id)
        except Exception as exc:  # a bug in record building must not fail scoring
            self.producer.count_failed(len(apps))
            logs.emit("capture_failed", logging.ERROR, error=type(exc).__name__,
                      stage="encode", records=len(apps))
            return "failed"
        return self.producer.append(lines)
