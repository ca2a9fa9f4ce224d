"""Shadow challenger: a second bundle scores every request; the champion answers.

With CHALLENGER_MODEL_S3_URI set, the challenger bundle is downloaded and loaded beside the
champion (before a SnapStart snapshot, like the champion). After each scoring response is
built, the same applications are scored by the challenger (probability and decision only,
no reasons) and its results go into the capture records (contract.capture_format's
``challenger``) and the request's log line; the drift job summarises agreement.

Isolation: the challenger runs after the champion's response exists, and any failure (it
cannot be downloaded or loaded, or it raises while scoring) is caught, logged and counted,
and shown by /health; the response is never touched. A failed load is retried at most every
RETRY_AFTER_S seconds.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contract.capture_format import ChallengerResult
from scoring import logs
from scoring.model import Bundle, download_bundle, load_bundle
from scoring.request import encode

if TYPE_CHECKING:
    from scoring.shapes import ChallengerHealth, PredictionBody

RETRY_AFTER_S = 30.0


def s3_loader(uri: str, threads: int) -> Callable[[], Bundle]:
    """Download and load the bundle under ``uri`` (its /tmp copy is removed on failure)."""

    def load() -> Bundle:
        directory = download_bundle(uri)
        try:
            return load_bundle(directory, threads=threads)
        except Exception:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    return load


class Challenger:
    """The challenger bundle (or why it is not loaded) and its counters."""

    def __init__(self, source: str, loader: Callable[[], Bundle]) -> None:
        self.source = source
        self._loader = loader
        self._bundle: Bundle | None = None
        self._error: str | None = None
        self._failed_at = -RETRY_AFTER_S
        self._lock = threading.Lock()
        self.scored = 0
        self.failed = 0
        self.disagreements = 0

    def bundle(self) -> Bundle | None:
        """The loaded challenger, loading it if due; None while it cannot be loaded."""
        if self._bundle is not None:
            return self._bundle
        with self._lock:
            if self._bundle is None and time.monotonic() - self._failed_at >= RETRY_AFTER_S:
                try:
                    self._bundle = self._loader()
                    self._error = None
                    logs.emit("challenger_loaded", model_version=self._bundle.version)
                except Exception as exc:  # BundleError or anything else: never propagate
                    self._error = _describe(exc)
                    self._failed_at = time.monotonic()
                    logs.emit("challenger_unavailable", logging.ERROR, reason=self._error)
            return self._bundle

    def score(self, apps: Sequence[Mapping[str, Any]], champion: Sequence[PredictionBody],
              log: dict[str, Any]) -> list[ChallengerResult] | None:
        """The challenger's results for the applications, or None (logged) if it fails."""
        try:
            bundle = self.bundle()
            if bundle is None:
                log["challenger"] = "unavailable"
                return None
            probability, _ = bundle.predict(encode([dict(a) for a in apps]), with_features=False)
            threshold, version = bundle.threshold, bundle.version
            results: list[ChallengerResult] = [
                {"model_version": version, "probability": p,
                 "decision": "decline" if p >= threshold else "approve"}
                for p in probability.tolist()]
        except Exception as exc:  # a challenger failure never reaches the response
            self.failed += 1
            self._error = f"scoring failed: {_describe(exc)}"
            logs.emit("challenger_failed", logging.ERROR, error=_describe(exc), n=len(apps))
            log["challenger"] = "failed"
            return None
        differing = sum(r["decision"] != c["decision"]
                        for r, c in zip(results, champion, strict=True))
        self.scored += len(results)
        self.disagreements += differing
        log["challenger"] = {"model_version": version, "disagreements": differing}
        return results

    def health(self) -> ChallengerHealth:
        bundle = self._bundle
        return {"source": self.source,
                "status": "ok" if bundle is not None else "unavailable",
                "model_version": bundle.version if bundle is not None else None,
                "reason": self._error, "scored": self.scored, "failed": self.failed,
                "disagreements": self.disagreements}


def from_settings(uri: str | None, threads: int) -> Challenger | None:
    """The challenger configured by CHALLENGER_MODEL_S3_URI, or None (shadowing off)."""
    return Challenger(uri, s3_loader(uri, threads)) if uri else None


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
