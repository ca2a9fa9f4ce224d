"""The scoring service behind the HTTP routes, and the one scoring path.

:class:`Service` holds what one app serves with: the model bundle (loaded on first use; after
a failure, retried on demand at most every RETRY_AFTER_S seconds) and the capture writer.
:func:`score` turns validated applications into predictions; /predict, /predict/batch and
the start-up probe (:meth:`Service.prime`) all go through it.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contract.schema import ID_FIELD
from scoring import capture as capture_mod
from scoring import logs
from scoring.config import DEFAULT_REASONS, Settings
from scoring.model import Bundle, BundleError, download_bundle, load_bundle, prime_application
from scoring.reasons import reasons_for_rows
from scoring.request import encode, parse_application, parse_batch

if TYPE_CHECKING:
    from scoring.firehose import FirehoseClient
    from scoring.shapes import CaptureHealth, Explained, HealthBody, PredictionBody

#: A failed bundle load is retried on demand at most this often.
RETRY_AFTER_S = 30.0


class Unavailable(Exception):
    """The model cannot serve; str(exc) is the reason."""


def score(bundle: Bundle, apps: list[dict[str, Any]], k: int) -> list[PredictionBody]:
    """Predictions (response dicts) for validated applications, with up to k reasons each
    (scoring.reasons: chosen by the decision)."""
    probability, features = bundle.predict(encode(apps), with_features=k > 0)
    probabilities: list[float] = probability.tolist()
    threshold = bundle.threshold
    version = bundle.version
    declined = [p >= threshold for p in probabilities]
    explained: list[Explained]
    if k > 0 and features is not None:
        explained = reasons_for_rows(bundle.explain(features), apps, declined, bundle.plan, k)
    else:
        explained = [{"reasons": [], "base_log_odds": None, "other_log_odds": None}
                     for _ in apps]
    return [
        {
            "client_id": app[ID_FIELD],
            "probability_default": p,
            "decision": "decline" if d else "approve",
            "threshold": threshold,
            "model_version": version,
            "reasons": e["reasons"],
            "base_log_odds": e["base_log_odds"],
            "other_log_odds": e["other_log_odds"],
        }
        for app, p, d, e in zip(apps, probabilities, declined, explained, strict=True)
    ]


def dump_json(content: object) -> bytes:
    """A response body: compact JSON, UTF-8; NaN and infinities are an error."""
    return json.dumps(content, separators=(",", ":"), allow_nan=False).encode("utf-8")


def where(exc: BaseException) -> str:
    """``file.py:line`` of the innermost frame of ``exc`` (logged instead of its message,
    which could quote request values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"


def _probe(bundle: Bundle) -> None:
    """One application through the whole request path: JSON bytes -> validation -> graph ->
    TreeSHAP reasons -> response JSON, plus the batch parser."""
    body = json.dumps(prime_application()).encode()
    predictions = score(bundle, [parse_application(body)], DEFAULT_REASONS)
    dump_json({"predictions": predictions})
    parse_batch(b'{"applications": [' + body + b"]}")


class Service:
    """The loaded bundle (or why it is not loaded) and the capture writer of one app."""

    def __init__(
        self,
        settings: Settings,
        config_error: str | None = None,
        capture_client_factory: Callable[[], FirehoseClient] | None = None,
    ) -> None:
        self.settings = settings
        self._config_error = config_error
        self._bundle: Bundle | None = None
        self._error: str | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()
        self.capture: capture_mod.CaptureWriter | None = None
        if settings.capture_enabled and config_error is None:
            self.capture = capture_mod.CaptureWriter(
                settings.capture_stream or "", settings.capture_hash_key,
                buffer_bytes=settings.capture_buffer_bytes, interval_s=settings.capture_flush_s,
                client_factory=capture_client_factory,
                key_secret_arn=settings.capture_hash_key_secret_arn,
            )

    def bundle(self) -> Bundle:
        """The loaded bundle; loads it on first use. Raises Unavailable with the reason."""
        bundle = self._bundle
        if bundle is not None:
            return bundle
        with self._lock:
            if self._bundle is None and (
                self._error is None or time.monotonic() - self._failed_at >= RETRY_AFTER_S
            ):
                self._load()
            if self._bundle is None:
                raise Unavailable(self._error)
            return self._bundle

    def _load(self) -> None:
        """Load the bundle (under the lock); on failure record and log the reason."""
        started = time.perf_counter()
        try:
            if self._config_error is not None:
                raise BundleError(f"invalid configuration: {self._config_error}")
            self._bundle = self._read_bundle()
        except BundleError as exc:
            self._fail(str(exc))
            return
        except Exception as exc:  # never let a load bug crash the function at import
            self._fail(f"unexpected error loading the model: {type(exc).__name__}", exc)
            return
        self._error = None
        logs.emit("model_loaded", model_version=self._bundle.version,
                  load_ms=round((time.perf_counter() - started) * 1e3, 1))

    def _read_bundle(self) -> Bundle:
        threads = self.settings.ort_threads
        if not self.settings.model_s3_uri:
            return load_bundle(self.settings.model_dir, threads=threads)
        directory = download_bundle(self.settings.model_s3_uri)
        try:
            return load_bundle(directory, threads=threads)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)  # a retry downloads afresh: free /tmp
            raise

    def _fail(self, reason: str, exc: BaseException | None = None) -> None:
        self._error = reason
        self._failed_at = time.monotonic()
        if exc is None:
            logs.emit("model_unavailable", logging.ERROR, reason=reason)
        else:
            logs.emit("model_unavailable", logging.ERROR, reason=reason, where=where(exc))

    def prime(self) -> None:
        """Load the bundle and run the whole request path once (JSON -> reasons), so the
        first real request meets warm code: at import, or before a SnapStart snapshot."""
        if self.capture is not None:
            self.capture.warm()
        try:
            bundle = self.bundle()
        except Unavailable:
            return
        try:
            _probe(bundle)
        except Exception as exc:  # a bundle that cannot score: 503, never a crash at import
            with self._lock:
                self._bundle = None
                self._fail(f"the model fails on a probe application: {type(exc).__name__}", exc)

    def after_restore(self) -> None:
        """After a SnapStart restore: connections from the snapshot are stale; build a
        fresh client now rather than on the first request."""
        if self.capture is not None:
            self.capture.reset_client()
            self.capture.warm()

    def health(self) -> tuple[int, HealthBody]:
        """(HTTP status, /health body)."""
        counts = self.capture.stats() if self.capture else capture_mod.empty_stats()
        capture: CaptureHealth = {"enabled": self.capture is not None, **counts}
        try:
            bundle = self.bundle()
        except Unavailable as exc:
            return 503, {"status": "unavailable", "model_version": None, "reason": str(exc),
                         "capture": capture}
        return 200, {"status": "ok", "model_version": bundle.version, "reason": None,
                     "capture": capture}
