"""Best-effort inference capture to S3, read by the drift job (format: contract.capture_format).

When CAPTURE_BUCKET is set, every scored request (one application or a whole batch) becomes
one JSON Lines object under ``<CAPTURE_PREFIX>dt=YYYY-MM-DD/``. SK_ID_CURR is never stored:
records carry HMAC-SHA256(CAPTURE_HASH_KEY, str(SK_ID_CURR)). Without CAPTURE_HASH_KEY a
random key is drawn per process, so hashes then link requests only within one execution
environment (set the key, e.g. from a secret, to join captures with outcomes later).

Best-effort and bounded: the put runs on a worker thread and the request waits for it at
most ``timeout_s`` (botocore's connect/read timeouts are set below that, with a single
attempt). An error, a denial or a timeout never fails the response: it is logged as a JSON
line and counted in ``STATS`` (shown by /health). If puts pile up behind a hung S3, new
captures are dropped (and counted) instead of queueing without bound.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contract.capture_format import capture_key, encode_capture
from contract.schema import ID_FIELD
from scoring import logs

if TYPE_CHECKING:
    from contract.aws import S3Client
    from contract.capture_format import CaptureRecord, ChallengerResult, Decision
    from scoring.shapes import CaptureCounts, CaptureOutcome

#: Puts allowed in flight (queued or running) before new captures are dropped.
MAX_PENDING = 4
_WORKERS = 2

STATS: CaptureCounts = {"written": 0, "failed": 0, "timed_out": 0, "dropped": 0}
_stats_lock = threading.Lock()


def _count(outcome: CaptureOutcome) -> None:
    with _stats_lock:
        STATS[outcome] += 1


def stats() -> CaptureCounts:
    with _stats_lock:
        return STATS.copy()


def reset_stats() -> None:
    with _stats_lock:
        STATS.update({"written": 0, "failed": 0, "timed_out": 0, "dropped": 0})


def make_s3_client(timeout_s: float) -> S3Client:
    """An S3 client that gives up quickly: one attempt, connect/read timeouts < timeout_s."""
    logs.quiet_aws_sdk_loggers()
    import boto3  # lazily: only when capture is on (importing boto3 is slow)
    from botocore.config import Config

    per_call = max(0.1, timeout_s * 0.8)
    client: S3Client = boto3.client("s3", config=Config(
        connect_timeout=per_call, read_timeout=per_call,
        retries={"total_max_attempts": 1, "mode": "standard"},
    ))
    return client


class CaptureWriter:
    """Writes capture objects; ``client_factory`` builds the S3 client (tests inject faults)."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        hash_key: bytes | None,
        timeout_s: float,
        client_factory: Callable[[], S3Client] | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.random_key = hash_key is None
        self._key = hash_key if hash_key is not None else secrets.token_bytes(32)
        self._client_factory = client_factory or (lambda: make_s3_client(timeout_s))
        self._client: S3Client | None = None
        self._client_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="capture")
        self._pending = 0
        self._pending_lock = threading.Lock()

    # -- set-up ------------------------------------------------------------------------------
    def client(self) -> S3Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def warm(self) -> None:
        """Create the S3 client now (at cold start / before a SnapStart snapshot)."""
        try:
            self.client()
        except Exception as exc:
            logs.emit("capture_client_error", logging.WARNING, error=_describe(exc))

    def reset_client(self) -> None:
        """Forget the client (after a SnapStart restore its connections are stale)."""
        with self._client_lock:
            self._client = None

    # -- records -----------------------------------------------------------------------------
    def hash_id(self, client_id: int) -> str:
        return hmac.new(self._key, str(client_id).encode("ascii"), hashlib.sha256).hexdigest()

    def records(
        self,
        apps: Sequence[Mapping[str, Any]],
        probabilities: Sequence[float],
        decisions: Sequence[Decision],
        model_version: str,
        challenger: Sequence[ChallengerResult | None] | None = None,
    ) -> list[CaptureRecord]:
        now = datetime.now(UTC).isoformat()
        records: list[CaptureRecord] = [
            {
                "captured_at": now,
                "model_version": model_version,
                "client_id_hash": self.hash_id(app[ID_FIELD]),
                "probability": probability,
                "decision": decision,
                "features": {k: v for k, v in app.items() if k != ID_FIELD},
            }
            for app, probability, decision in zip(apps, probabilities, decisions, strict=True)
        ]
        if challenger is not None:  # a shadow challenger is configured: its result per record
            for record, result in zip(records, challenger, strict=True):
                record["challenger"] = result
        return records

    # -- writing -----------------------------------------------------------------------------
    def capture(
        self,
        apps: Sequence[Mapping[str, Any]],
        probabilities: Sequence[float],
        decisions: Sequence[Decision],
        model_version: str,
        challenger: Sequence[ChallengerResult | None] | None = None,
    ) -> CaptureOutcome:
        """Write one request's records; never raises. Returns the outcome (for the log)."""
        try:
            body = encode_capture(self.records(apps, probabilities, decisions, model_version,
                                               challenger))
            key = capture_key(datetime.now(UTC), self.prefix)
        except Exception as exc:  # a bug in record building must not fail scoring either
            _count("failed")
            logs.emit("capture_failed", logging.ERROR, error=_describe(exc), stage="encode")
            return "failed"
        with self._pending_lock:
            if self._pending >= MAX_PENDING:
                _count("dropped")
                logs.emit("capture_dropped", logging.WARNING, records=len(apps),
                          pending=self._pending)
                return "dropped"
            self._pending += 1
        future = self._pool.submit(self._put, key, body, len(apps))
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            _count("timed_out")
            logs.emit("capture_timeout", logging.WARNING, bucket=self.bucket, key=key,
                      records=len(apps), waited_s=self.timeout_s)
            return "timed_out"

    def _put(self, key: str, body: bytes, n_records: int) -> CaptureOutcome:
        try:
            self.client().put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson"
            )
        except Exception as exc:  # ClientError (denied, no bucket), timeouts, no credentials
            _count("failed")
            logs.emit("capture_failed", logging.ERROR, bucket=self.bucket, key=key,
                      records=n_records, error=_describe(exc))
            return "failed"
        finally:
            with self._pending_lock:
                self._pending -= 1
        _count("written")
        return "written"


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
