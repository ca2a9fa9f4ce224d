"""Inference capture, read by the drift job (record format: contract.capture_format).

When CAPTURE_STREAM (a Firehose delivery stream) is set, every scored application becomes one
JSON line handed to the producer (scoring.firehose): building and buffering the lines is all
the request path does; the producer thread sends them to Firehose, which writes hourly,
gzip-compressed objects to the capture bucket.

SK_ID_CURR is never stored: records carry HMAC-SHA256(key, str(SK_ID_CURR)). In AWS the key
is read from Secrets Manager (CAPTURE_HASH_KEY_SECRET_ARN) at start-up, before a SnapStart
snapshot, and is never in the function's environment; until it is read, records are counted
as failed, not written under another key. Locally CAPTURE_HASH_KEY gives it directly; with
neither, a random key is drawn per process, so hashes then link requests only within one
execution environment. Each record carries the request's id (the x-request-id header and the
request log line's ``request_id``), so captures join with logs and outcomes.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
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


#: Seconds between attempts to read the hash key after a failure.
KEY_RETRY_S = 60.0


class KeyUnavailable(Exception):
    """The hash key secret could not be read: captures are counted as failed."""


def read_secret(secret_arn: str) -> bytes:
    """The SecretString of ``secret_arn`` from Secrets Manager, as bytes."""
    logs.quiet_aws_sdk_loggers()
    import boto3  # lazily: only when capture is on
    from botocore.config import Config

    client = boto3.client("secretsmanager", config=Config(
        connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 3, "mode": "standard"}))
    value = client.get_secret_value(SecretId=secret_arn)["SecretString"]
    if not isinstance(value, str) or not value:
        raise ValueError("the capture hash key secret is empty")
    return value.encode("utf-8")


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
        key_secret_arn: str | None = None,
    ) -> None:
        self.random_key = hash_key is None and key_secret_arn is None
        self.key_secret_arn = key_secret_arn
        self._key: bytes | None = hash_key
        if self.random_key:
            self._key = secrets.token_bytes(32)
        self._key_lock = threading.Lock()
        self._key_failed_at: float | None = None
        self.producer = FirehoseProducer(stream, buffer_bytes=buffer_bytes,
                                         interval_s=interval_s, client_factory=client_factory)

    # -- set-up ------------------------------------------------------------------------------
    def warm(self) -> None:
        """Read the hash key and create the Firehose client now (at cold start / before a
        SnapStart snapshot)."""
        self.hash_key()
        try:
            self.producer.client()
        except Exception as exc:
            logs.emit("capture_client_error", logging.WARNING, error=type(exc).__name__)

    def reset_client(self) -> None:
        self.producer.reset_client()

    def stats(self) -> CaptureCounts:
        return self.producer.stats()

    def hash_key(self) -> bytes | None:
        """The key; read from Secrets Manager on first use (retried at most every
        KEY_RETRY_S after a failure, which is logged without the key)."""
        if self._key is not None or self.key_secret_arn is None:
            return self._key
        with self._key_lock:
            failed_at = self._key_failed_at
            if self._key is None and (failed_at is None
                                      or time.monotonic() - failed_at >= KEY_RETRY_S):
                try:
                    self._key = read_secret(self.key_secret_arn)
                    logs.emit("capture_key_loaded")
                except Exception as exc:
                    self._key_failed_at = time.monotonic()
                    logs.emit("capture_key_error", logging.ERROR, error=type(exc).__name__)
            return self._key

    # -- records -----------------------------------------------------------------------------
    def hash_id(self, client_id: int) -> str:
        return client_hash(self._key_or_raise(), client_id)

    def key_id(self) -> str:
        """The id of the hash key (contract.capture_format.hash_key_id), for the records."""
        return hash_key_id(self._key_or_raise())

    def _key_or_raise(self) -> bytes:
        key = self.hash_key()
        if key is None:
            raise KeyUnavailable("the capture hash key could not be read")
        return key

    def lines(
        self,
        apps: Sequence[Mapping[str, Any]],
        probabilities: Sequence[float],
        decisions: Sequence[Decision],
        model_version: str,
        request_id: str,
    ) -> list[bytes]:
        now, key_id = datetime.now(UTC).isoformat(), self.key_id()
        records: list[CaptureRecord] = [
            {
                "captured_at": now,
                "request_id": request_id,
                "model_version": model_version,
                "client_id_hash": self.hash_id(app[ID_FIELD]),
                "probability": probability,
                "decision": decision,
                "features": {k: v for k, v in app.items() if k != ID_FIELD},
                "hash_key_id": key_id,
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
                      stage="key" if isinstance(exc, KeyUnavailable) else "encode",
                      records=len(apps))
            return "failed"
        return self.producer.append(lines)
