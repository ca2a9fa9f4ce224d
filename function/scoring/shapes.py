"""The JSON bodies the scoring API returns, as TypedDicts for the type checker.

The Pydantic models of the same names in :mod:`scoring.request` (``Prediction``, ``Reason``,
``BatchResponse``, ``Health``) document these bodies in the OpenAPI spec; these TypedDicts
type the plain dicts the request path builds and ``json.dumps`` serialises (a unit test
checks both describe the same keys). Import this module under ``TYPE_CHECKING`` only: the
request path never needs it at run time.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from contract.capture_format import Decision
from contract.reasons import Direction, Explained, ReasonBody


class PredictionBody(TypedDict):
    """The /predict response body; one item of a /predict/batch response."""

    client_id: int
    probability_default: float
    decision: Decision
    threshold: float
    model_version: str
    reasons: list[ReasonBody]
    base_log_odds: float | None
    other_log_odds: float | None


class BatchResponseBody(TypedDict):
    """The /predict/batch response body."""

    predictions: list[PredictionBody]


__all__ = ["BatchResponseBody", "CaptureCounts", "CaptureHealth", "CaptureOutcome",
           "Direction", "Explained", "HealthBody", "PredictionBody", "ReasonBody"]

#: What became of one request's capture (scoring.capture).
CaptureOutcome = Literal["buffered", "dropped", "failed"]


class CaptureCounts(TypedDict):
    """Captured records (one per scored application) by outcome, since the process started
    (scoring.firehose); ``buffered`` is what waits now."""

    buffered: int
    sent: int
    retried: int
    dropped: int
    failed: int
    #: What Firehose bills: records (many JSON lines each) and PutRecordBatch calls.
    firehose_records: int
    calls: int


class CaptureHealth(CaptureCounts):
    """Inference capture in /health: on or off, and its outcome counts."""

    enabled: bool


class HealthBody(TypedDict):
    """The /health response body."""

    status: Literal["ok", "unavailable"]
    model_version: str | None
    reason: str | None
    capture: CaptureHealth
