"""The weekly drift job: one run of ``drift.handler.handler`` (template.yaml's DriftFunction).

One run:

1. window: the WINDOW_DAYS complete UTC days before the scheduled event's ``time``
   (drift.schedule; the window end date names the output prefix). The same event always
   means the same window, and only past, complete days are read, so a rerun sees the same
   captures.
2. read the reference sample (REFERENCE_BUCKET/REFERENCE_KEY, the bundle's
   reference.csv.gz) and at most MAX_ROWS captured records of the window (drift.captures).
3. fewer than MIN_ROWS records -> a "skipped" summary; otherwise the Evidently report, the
   prediction drift (drift.prediction), the decline rates by group (drift.fairness) and, with
   CHALLENGER_MODEL_S3_URI, the challenger's agreement (drift.challenger).
4. publish under ``REPORT_PREFIX<window end>/``: report.html, report.json, summary.json (or
   only summary.json when skipped), then REPORT_PREFIX + latest.json last. Everything is
   rendered in memory first; if an upload still fails after botocore's retries, the objects
   this run wrote are deleted and the error is raised: no partial report is left
   (drift.publish).
5. one CloudWatch Embedded Metric Format line on stdout: DriftShare, dimension Model.

Settings: drift.config. Logs are contract.logs's JSON lines and carry counts, keys and drift
scores only, never applicant values.
"""

from __future__ import annotations

import io
import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import pandas as pd

from contract.bundle import reference_card_key, reference_scores_key
from contract.logs import emit, get_logger
from drift.captures import CaptureSample, ReadCounts, read_window
from drift.config import DriftConfig
from drift.prediction import PredictionSummary, load_scores, prediction_summary
from drift.publish import HTML, JSON, File, dumps, emf_line, publish, read_optional
from drift.schedule import Window, window_for

if TYPE_CHECKING:
    from datetime import date

    from contract.aws import S3Client
    from drift.report import DriftedColumn, UntestableColumn

log = get_logger("drift")

#: The reference sample is a few thousand training rows; a cap keeps a mistaken upload of a
#: whole training set from exhausting memory. (Not MAX_ROWS: Evidently picks its tests by the
#: reference size, and the capture bound must not change them.)
MAX_REFERENCE_ROWS = 50_000


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


def report_keys(report_prefix: str, end: date) -> dict[str, str]:
    base = f"{report_prefix}{end.isoformat()}/"
    return {
        "html": base + "report.html",
        "json": base + "report.json",
        "summary": base + "summary.json",
        "latest": report_prefix + "latest.json",
    }



def load_reference(s3: S3Client, config: DriftConfig) -> pd.DataFrame:
    """The reference sample, typed like the captures (at most MAX_REFERENCE_ROWS rows)."""
    from drift.report import prepare_frame

    body = s3.get_object(Bucket=config.reference_bucket, Key=config.reference_key)["Body"].read()
    compression = "gzip" if config.reference_key.endswith(".gz") else None
    frame = prepare_frame(pd.read_csv(io.BytesIO(body), compression=compression))
    if len(frame) > MAX_REFERENCE_ROWS:
        frame = frame.sample(MAX_REFERENCE_ROWS, random_state=0).sort_index()
        frame = frame.reset_index(drop=True)
    return frame


def load_reference_scores(s3: S3Client, config: DriftConfig) -> tuple[np.ndarray, float] | None:
    """The reference scores (REFERENCE_SCORES_KEY, default beside the reference sample),
    or None, logged, if there are none: the report then shows the window's scores only."""
    key = config.reference_scores_key or reference_scores_key(config.reference_key)
    body = read_optional(s3, config.reference_bucket, key)
    if body is None:
        log.warning("no reference scores at %s: predictions are not compared", key)
        return None
    return load_scores(body)


def _window_end_of(summary: bytes | None) -> str | None:
    try:
        return str(json.loads(summary)["window"]["end"]) if summary else None
    except (ValueError, KeyError, TypeError):
        return None


def metric_line(summary: DriftSummary, config: DriftConfig, now: datetime | None = None) -> str:
    """The CloudWatch Embedded Metric Format record for one report (one JSON line)."""
    return emf_line(
        config.metric_namespace,
        ["Model"],
        {"DriftShare": "None"},
        {
            "Model": config.model_name,
            "DriftShare": summary["drift_share"],
            "DriftedColumns": summary["drifted_count"],
            "DatasetDrift": summary["dataset_drift"],
            "CurrentRows": summary["rows"]["current"],
            "WindowEnd": summary["window"]["end"],
        },
        now,
    )


def run(event: Any, config: DriftConfig, s3: S3Client) -> RunResult:
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
    s3: S3Client, config: DriftConfig, window: Window
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
    config: DriftConfig, window: Window, reference_rows: int, sample: CaptureSample
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
    return [(keys["summary"], dumps(summary), JSON)], [keys["html"], keys["json"]]


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
        (keys["html"], result.html.encode("utf-8"), HTML),
        (keys["json"], dumps(result.json), JSON),
        (keys["summary"], dumps(summary), JSON),
    ]
    return files, []


def _publish_run(
    s3: S3Client,
    config: DriftConfig,
    window: Window,
    keys: dict[str, str],
    summary: DriftSummary,
    files: list[File],
    stale: list[str],
) -> list[str]:
    """Publish the run's files, then latest.json unless it already covers a later window."""
    previous = read_optional(s3, config.report_bucket, keys["latest"])
    newer = _window_end_of(previous)
    latest = None
    if newer is not None and newer > window.end.isoformat():
        log.info("latest.json already covers a later window (%s); left as is", newer)
    else:
        latest = (keys["latest"], dumps(summary))
    return publish(
        s3, config.report_bucket, files, stale=stale, latest=latest, previous_latest=previous
    )


def _announce(
    summary: DriftSummary, config: DriftConfig, window: Window, sample: CaptureSample
) -> None:
    """The drift metric (EMF line on stdout) when a report ran, and one log line."""
    if summary["status"] == "ok":
        print(metric_line(summary, config), flush=True)
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


def _skip_reason(sample: CaptureSample, config: DriftConfig) -> str | None:
    if sample.objects_listed == 0:
        return "no captures in the window"
    if sample.rows == 0:
        return f"no readable captures in the window ({sample.objects_skipped} skipped as corrupt)"
    if sample.rows < config.min_rows:
        return f"{sample.rows} captured rows, fewer than MIN_ROWS={config.min_rows}"
    return None



def _fairness(s3: S3Client, config: DriftConfig, sample: CaptureSample) -> dict[str, Any]:
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
