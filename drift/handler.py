"""The drift-monitoring Lambda: ``drift.handler.handler``, run by an EventBridge schedule.

One run:

1. window: the WINDOW_DAYS complete UTC days before the scheduled event's ``time``
   (an event at 2026-11-28T02:00Z covers 2026-11-21 .. 2026-11-27; the window end date,
   2026-11-27, names the output prefix). The same event always means the same window, and
   only past, complete days are read, so a rerun sees the same captures.
2. read the reference sample (REFERENCE_BUCKET/REFERENCE_KEY, the bundle's
   reference.csv.gz) and at most MAX_ROWS captured records of the window (drift.captures).
3. fewer than MIN_ROWS records -> a "skipped" summary; otherwise the Evidently report.
4. publish under ``REPORT_PREFIX<window end>/``: report.html, report.json, summary.json (or
   only summary.json when skipped), then REPORT_PREFIX + latest.json last. Everything is
   rendered in memory first; if an upload still fails after botocore's retries, the objects
   this run wrote are deleted and the error is raised: no partial report is left.
5. one CloudWatch Embedded Metric Format line on stdout: DriftShare, dimension Model.

Environment: REPORT_BUCKET, CAPTURE_BUCKET, REFERENCE_KEY (required); REFERENCE_BUCKET
(default REPORT_BUCKET), CAPTURE_PREFIX (captures/), REPORT_PREFIX (reports/drift/),
WINDOW_DAYS (7), MIN_ROWS (200), MAX_ROWS (20000), ROWS_PER_OBJECT (50), READ_WORKERS (8),
REFERENCE_SCORES_KEY and REFERENCE_CARD_KEY (default: reference_scores.json and
model_card.json beside REFERENCE_KEY), MODEL_NAME (credit-scoring, the metric dimension),
METRIC_NAMESPACE (CreditScoring/Drift), CHALLENGER_MODEL_S3_URI (a challenger bundle scored
on the captures: drift.challenger); AWS_LAMBDA_LOG_LEVEL (INFO) for the logs.

Logs are contract.logs's JSON lines and carry counts, keys and drift scores only, never
applicant values.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import pandas as pd

from contract.bundle import reference_card_key, reference_scores_key
from contract.capture_format import DEFAULT_PREFIX as DEFAULT_CAPTURE_PREFIX
from contract.env import positive_int, prefix, required
from contract.logs import emit, get_logger, start_invocation
from drift.captures import (
    DEFAULT_ROWS_PER_OBJECT,
    DEFAULT_WORKERS,
    CaptureSample,
    ReadCounts,
    read_window,
)
from drift.prediction import PredictionSummary, load_scores, prediction_summary

if TYPE_CHECKING:
    from contract.aws import LambdaContext, S3Client
    from drift.report import DriftedColumn, UntestableColumn

#: The monitor's JSON logger (contract.logs); drift.captures and drift.fairness log through it.
log = get_logger("drift")

DEFAULT_REPORT_PREFIX = "reports/drift/"
#: Attempts per S3 call (the first included), botocore "standard" mode: throttling, 5xx and
#: connection errors are retried with exponential backoff.
S3_MAX_ATTEMPTS = 5
#: The reference sample is a few thousand training rows; a cap keeps a mistaken upload of a
#: whole training set from exhausting memory. (Not MAX_ROWS: Evidently picks its tests by the
#: reference size, and the capture bound must not change them.)
MAX_REFERENCE_ROWS = 50_000


@dataclass(frozen=True)
class Config:
    report_bucket: str
    capture_bucket: str
    reference_bucket: str
    reference_key: str
    capture_prefix: str = DEFAULT_CAPTURE_PREFIX
    report_prefix: str = DEFAULT_REPORT_PREFIX
    window_days: int = 7
    min_rows: int = 200
    max_rows: int = 20_000
    rows_per_object: int = DEFAULT_ROWS_PER_OBJECT
    reference_scores_key: str | None = None
    #: The model card beside the reference (its fairness reference decline rates).
    reference_card_key: str | None = None
    read_workers: int = DEFAULT_WORKERS
    model_name: str = "credit-scoring"
    metric_namespace: str = "CreditScoring/Drift"
    challenger_model_s3_uri: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        required("REPORT_BUCKET", "CAPTURE_BUCKET", "REFERENCE_KEY", env=env)
        config = cls(
            report_bucket=env["REPORT_BUCKET"],
            capture_bucket=env["CAPTURE_BUCKET"],
            reference_bucket=env.get("REFERENCE_BUCKET") or env["REPORT_BUCKET"],
            reference_key=env["REFERENCE_KEY"],
            capture_prefix=prefix(env.get("CAPTURE_PREFIX", DEFAULT_CAPTURE_PREFIX)),
            report_prefix=prefix(env.get("REPORT_PREFIX") or DEFAULT_REPORT_PREFIX),
            window_days=positive_int(env, "WINDOW_DAYS", cls.window_days),
            min_rows=positive_int(env, "MIN_ROWS", cls.min_rows),
            max_rows=positive_int(env, "MAX_ROWS", cls.max_rows),
            rows_per_object=positive_int(env, "ROWS_PER_OBJECT", cls.rows_per_object),
            reference_scores_key=env.get("REFERENCE_SCORES_KEY") or None,
            reference_card_key=env.get("REFERENCE_CARD_KEY") or None,
            read_workers=positive_int(env, "READ_WORKERS", cls.read_workers),
            model_name=env.get("MODEL_NAME") or cls.model_name,
            metric_namespace=env.get("METRIC_NAMESPACE") or cls.metric_namespace,
            challenger_model_s3_uri=env.get("CHALLENGER_MODEL_S3_URI") or None,
        )
        if config.min_rows > config.max_rows:
            raise ValueError(f"MIN_ROWS ({config.min_rows}) exceeds MAX_ROWS ({config.max_rows})")
        return config


@dataclass(frozen=True)
class Window:
    event_time: datetime
    start: date
    end: date


class WindowSummary(TypedDict):
    start: str
    end: str
    days: int


class ReportFields(TypedDict, total=False):
    """The report's part of a drift summary: the verdict fields only when a report ran;
    ``report_keys`` once the run's files are laid out."""

    columns_tested: int
    drifted_count: int
    drift_share: float
    drift_share_threshold: float
    dataset_drift: bool
    drifted_columns: list[DriftedColumn]
    evidently_version: str
    untestable_columns: list[UntestableColumn]
    report_keys: dict[str, str]
    #: Decline rate by gender, age band and marital status on the captures vs the reference
    #: (drift.fairness).
    fairness: dict[str, Any]
    #: The challenger (CHALLENGER_MODEL_S3_URI) scored on the window's captures: agreement
    #: and flips (drift.challenger).
    challenger: dict[str, Any]


class DriftSummary(ReportFields):
    """summary.json (and latest.json) of one run."""

    status: Literal["ok", "skipped"]
    reason: str | None
    model: str
    event_time: str
    window: WindowSummary
    rows: dict[str, int]
    min_rows: int
    max_rows: int
    sampled: bool
    captures: ReadCounts
    #: Shadow-challenger agreement (drift.shadow); None without challenger records.
    shadow: dict[str, Any] | None
    prediction: PredictionSummary
    reference: dict[str, str]


class RunResult(DriftSummary):
    """What ``run`` returns: the summary, the keys written and the timings of each step."""

    written: list[str]
    timings_s: dict[str, float]


#: One object to publish: (key, body, content type).
File = tuple[str, bytes, str]
JSON = "application/json"


def window_for(event: Any, days: int, now: datetime | None = None) -> Window:
    """The window of a scheduled event: the ``days`` complete UTC days before its ``time``.

    An event without ``time`` (a manual invoke with ``{}``) uses the current time.
    """
    raw = event.get("time") if isinstance(event, Mapping) else None
    if raw:
        try:
            when = datetime.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"event time is not an ISO 8601 timestamp: {raw!r}") from None
    else:
        when = now or datetime.now(UTC)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    end = when.date() - timedelta(days=1)
    return Window(event_time=when, start=end - timedelta(days=days - 1), end=end)


def report_keys(report_prefix: str, end: date) -> dict[str, str]:
    base = f"{report_prefix}{end.isoformat()}/"
    return {
        "html": base + "report.html",
        "json": base + "report.json",
        "summary": base + "summary.json",
        "latest": report_prefix + "latest.json",
    }


def s3_client(
    max_pool_connections: int = DEFAULT_WORKERS + 2, max_attempts: int = S3_MAX_ATTEMPTS
) -> S3Client:
    """The job's S3 client: botocore "standard" retries (throttling, 5xx, connection errors)."""
    import boto3
    from botocore.config import Config as BotoConfig

    client: S3Client = boto3.client(
        "s3",
        config=BotoConfig(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            connect_timeout=10,
            read_timeout=60,
        ),
    )
    return client


def load_reference(s3: S3Client, config: Config) -> pd.DataFrame:
    """The reference sample, typed like the captures (at most MAX_REFERENCE_ROWS rows)."""
    from drift.report import prepare_frame

    body = s3.get_object(Bucket=config.reference_bucket, Key=config.reference_key)["Body"].read()
    compression = "gzip" if config.reference_key.endswith(".gz") else None
    frame = prepare_frame(pd.read_csv(io.BytesIO(body), compression=compression))
    if len(frame) > MAX_REFERENCE_ROWS:
        frame = frame.sample(MAX_REFERENCE_ROWS, random_state=0).sort_index()
        frame = frame.reset_index(drop=True)
    return frame


def load_reference_scores(s3: S3Client, config: Config) -> tuple[np.ndarray, float] | None:
    """The reference scores (REFERENCE_SCORES_KEY, default beside the reference sample),
    or None, logged, if there are none: the report then shows the window's scores only."""
    from botocore.exceptions import ClientError

    key = config.reference_scores_key or reference_scores_key(config.reference_key)
    try:
        body = s3.get_object(Bucket=config.reference_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "AccessDenied", "403"}:
            log.warning("no reference scores at %s: predictions are not compared", key)
            return None
        raise
    return load_scores(body)


def _dumps(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")


def read_latest(s3: S3Client, bucket: str, key: str) -> bytes | None:
    """The current latest.json, or None if there is none.

    Without s3:ListBucket on the report prefix, S3 answers a missing key with 403, not 404.
    """
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "AccessDenied", "403"}:
            return None
        raise


def _window_end_of(summary: bytes | None) -> str | None:
    try:
        return str(json.loads(summary)["window"]["end"]) if summary else None
    except (ValueError, KeyError, TypeError):
        return None


def publish(
    s3: S3Client,
    bucket: str,
    files: list[File],
    *,
    stale: list[str],
    latest: tuple[str, bytes] | None,
    previous_latest: bytes | None = None,
) -> list[str]:
    """Delete ``stale`` keys, write ``files`` in order, then ``latest`` last; all or nothing.

    On any failure, every key this call tried to write is removed (a failed put may still have
    landed), latest.json is put back to ``previous_latest`` (or removed if there was none),
    and the error is re-raised. Returns the keys written.
    """
    attempted: list[str] = []
    latest_attempted = False
    try:
        if stale:
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale], "Quiet": True}
            )
        for key, body, content_type in files:
            attempted.append(key)
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        if latest is not None:
            latest_attempted = True
            s3.put_object(
                Bucket=bucket, Key=latest[0], Body=latest[1], ContentType="application/json"
            )
    except Exception:
        log.error("publishing failed; removing the %d object(s) this run wrote", len(attempted))
        for key in attempted:
            _best_effort(s3.delete_object, Bucket=bucket, Key=key)
        if latest is not None and latest_attempted:
            if previous_latest is None:
                _best_effort(s3.delete_object, Bucket=bucket, Key=latest[0])
            else:
                _best_effort(
                    s3.put_object,
                    Bucket=bucket,
                    Key=latest[0],
                    Body=previous_latest,
                    ContentType="application/json",
                )
        raise
    return attempted + ([latest[0]] if latest is not None else [])


def _best_effort(call: Callable[..., object], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except Exception:  # keep cleaning up as much as possible; the caller re-raises
        log.exception("cleanup of %s failed", kwargs.get("Key"))


def emf_line(summary: DriftSummary, config: Config, now: datetime | None = None) -> str:
    """The CloudWatch Embedded Metric Format record for one report (one JSON line)."""
    stamp = now or datetime.now(UTC)
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(stamp.timestamp() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": config.metric_namespace,
                        "Dimensions": [["Model"]],
                        "Metrics": [{"Name": "DriftShare", "Unit": "None"}],
                    }
                ],
            },
            "Model": config.model_name,
            "DriftShare": summary["drift_share"],
            "DriftedColumns": summary["drifted_count"],
            "DatasetDrift": summary["dataset_drift"],
            "CurrentRows": summary["rows"]["current"],
            "WindowEnd": summary["window"]["end"],
        },
        separators=(",", ":"),
    )


def run(event: Any, config: Config, s3: S3Client) -> RunResult:
    """One drift run (see the module doc). Returns the summary plus the run's timings."""
    marks = [time.perf_counter()]
    window = window_for(event, config.window_days)
    keys = report_keys(config.report_prefix, window.end)
    # Evidently's import is slow: it happens here, on the first invocation, not in Lambda's
    # init phase (limited to 10 seconds).
    import drift.report  # noqa: F401

    marks.append(time.perf_counter())
    reference, sample = _read_inputs(s3, config, window)
    scores = load_reference_scores(s3, config)
    marks.append(time.perf_counter())
    summary = _summary(config, window, len(reference), sample)
    summary["prediction"] = prediction_summary(sample.probability, sample.declined, scores)
    if config.challenger_model_s3_uri:
        summary["challenger"] = _challenger(s3, config.challenger_model_s3_uri, sample)
    reason = _skip_reason(sample, config)
    if reason is None:
        files, stale = _report_files(summary, reference, sample, window, keys,
                                     _fairness(s3, config, sample))
        marks.append(time.perf_counter())
    else:
        files, stale = _skipped_files(summary, reason, keys)
        marks.append(marks[-1])
    written = _publish_run(s3, config, window, keys, summary, files, stale)
    marks.append(time.perf_counter())
    _announce(summary, config, window, sample)
    return {**summary, "written": written, "timings_s": _timings(marks)}


def _read_inputs(
    s3: S3Client, config: Config, window: Window
) -> tuple[pd.DataFrame, CaptureSample]:
    """The reference sample and the window's captured records."""
    reference = load_reference(s3, config)
    sample = read_window(
        s3,
        config.capture_bucket,
        window.start,
        window.end,
        max_rows=config.max_rows,
        rows_per_object=config.rows_per_object,
        prefix=config.capture_prefix,
        workers=config.read_workers,
    )
    return reference, sample


def _summary(
    config: Config, window: Window, reference_rows: int, sample: CaptureSample
) -> DriftSummary:
    """The summary of what was read (status "ok" until a skip reason says otherwise)."""
    return {
        "status": "ok",
        "reason": None,
        "model": config.model_name,
        "event_time": window.event_time.isoformat(),
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "days": config.window_days,
        },
        "rows": {"reference": reference_rows, "current": sample.rows},
        "min_rows": config.min_rows,
        "max_rows": config.max_rows,
        "sampled": sample.sampled,
        "captures": sample.counts(),
        "shadow": sample.shadow.summary(),
        "prediction": prediction_summary(sample.probability, sample.declined, None),
        "reference": {"bucket": config.reference_bucket, "key": config.reference_key},
    }


def _skipped_files(
    summary: DriftSummary, reason: str, keys: dict[str, str]
) -> tuple[list[File], list[str]]:
    """A skipped run writes its summary only, and removes an earlier run's report of the
    same window, if any. Returns (files, stale keys)."""
    summary.update(
        {"status": "skipped", "reason": reason, "report_keys": {"summary": keys["summary"]}}
    )
    return [(keys["summary"], _dumps(summary), JSON)], [keys["html"], keys["json"]]


def _report_files(
    summary: DriftSummary,
    reference: pd.DataFrame,
    sample: CaptureSample,
    window: Window,
    keys: dict[str, str],
    fairness: dict[str, Any],
) -> tuple[list[File], list[str]]:
    """Run the Evidently report; add its verdict and the decline rates by group
    (``fairness``) to the summary and the report. Returns (files, stale keys)."""
    from drift.report import frame_from_encoded, run_report

    current = frame_from_encoded(sample.encoded())
    result = run_report(reference, current, timestamp=window.event_time)
    verdict = result.summary
    summary.update(
        {
            "columns_tested": verdict["columns_tested"],
            "drifted_count": verdict["drifted_count"],
            "drift_share": verdict["drift_share"],
            "drift_share_threshold": verdict["drift_share_threshold"],
            "dataset_drift": verdict["dataset_drift"],
            "drifted_columns": verdict["drifted_columns"],
            "evidently_version": verdict["evidently_version"],
            "untestable_columns": verdict["untestable_columns"],
            "report_keys": {k: keys[k] for k in ("html", "json", "summary")},
            "fairness": fairness,
        }
    )
    result.json["fairness"] = fairness
    files = [
        (keys["html"], result.html.encode("utf-8"), "text/html; charset=utf-8"),
        (keys["json"], _dumps(result.json), JSON),
        (keys["summary"], _dumps(summary), JSON),
    ]
    return files, []


def _publish_run(
    s3: S3Client,
    config: Config,
    window: Window,
    keys: dict[str, str],
    summary: DriftSummary,
    files: list[File],
    stale: list[str],
) -> list[str]:
    """Publish the run's files, then latest.json unless it already covers a later window."""
    previous = read_latest(s3, config.report_bucket, keys["latest"])
    newer = _window_end_of(previous)
    latest = None
    if newer is not None and newer > window.end.isoformat():
        log.info("latest.json already covers a later window (%s); left as is", newer)
    else:
        latest = (keys["latest"], _dumps(summary))
    return publish(
        s3, config.report_bucket, files, stale=stale, latest=latest, previous_latest=previous
    )


def _announce(summary: DriftSummary, config: Config, window: Window, sample: CaptureSample) -> None:
    """The drift metric (EMF line on stdout) when a report ran, and one log line."""
    if summary["status"] == "ok":
        print(emf_line(summary, config), flush=True)
    emit(log, "drift_run", status=summary["status"], window_start=window.start,
         window_end=window.end, rows=sample.rows, objects_read=sample.objects_read,
         objects_skipped=sample.objects_skipped, reason=summary["reason"],
         drift_share=summary.get("drift_share"))


def _timings(marks: list[float]) -> dict[str, float]:
    """Seconds per step from the run's time marks (start, imported, read, reported, published)."""
    started, imported, read, reported, published = marks
    return {
        "import": round(imported - started, 3),
        "read": round(read - imported, 3),
        "report": round(reported - read, 3),
        "publish": round(published - reported, 3),
        "total": round(published - started, 3),
    }


def _skip_reason(sample: CaptureSample, config: Config) -> str | None:
    if sample.objects_listed == 0:
        return "no captures in the window"
    if sample.rows == 0:
        return f"no readable captures in the window ({sample.objects_skipped} skipped as corrupt)"
    if sample.rows < config.min_rows:
        return f"{sample.rows} captured rows, fewer than MIN_ROWS={config.min_rows}"
    return None


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (EventBridge scheduled event)."""
    start_invocation(context)
    config = Config.from_env()
    result = run(event, config, s3_client(config.read_workers + 2))
    return {k: result[k] for k in ("status", "reason", "window", "rows", "written", "timings_s")}


def _fairness(s3: S3Client, config: Config, sample: CaptureSample) -> dict[str, Any]:
    """Decline rate by gender, age band and marital status on the window's captures vs the
    reference."""
    from drift import fairness

    key = config.reference_card_key or reference_card_key(config.reference_key)
    reference = fairness.reference_rates(s3, config.reference_bucket, key)
    return fairness.decline_by_group(sample.numeric, sample.categorical, sample.declined,
                                     reference)


def _challenger(s3: S3Client, uri: str, sample: CaptureSample) -> dict[str, Any]:
    """The challenger scored on the window's captures; a bundle that cannot be read is
    reported, not raised (the drift report still runs)."""
    from drift.challenger import ChallengerModel, agreement

    try:
        model = ChallengerModel.load(uri, s3)
    except Exception as exc:
        log.error("challenger %s unavailable: %s", uri, type(exc).__name__)
        return {"source": uri, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    declined = model.declines(model.probabilities(sample.encoded()))
    return {"source": uri, **agreement(sample.declined, declined, model.version)}
