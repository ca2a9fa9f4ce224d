"""The monthly outcomes Lambda: ``drift.outcomes_handler.handler`` (same image as the drift job).

One run, for the as-of date of the scheduled event (its ``time``, or ``detail.as_of``):

1. compact the previous month's captures (and any month of the window with captures but
   no partition) into the decisions table, ``CAPTURE_BUCKET/DECISIONS_PREFIX``
   (drift.compaction);
2. download the window's months of the decisions table (the LOOKBACK_MONTHS before as_of's
   month), as_of's month of captures and the outcomes observed since the window's start
   into /tmp (drift.outcomes_join.Window); read the champion's model card (MODEL_CARD_KEY);
3. run the join (drift/sql/outcomes_join.sql) on DuckDB and the cohort statistics;
4. publish ``REPORT_PREFIX<YYYY-MM>/summary.json``, ``report.html`` and Evidently's
   classification report per matured cohort (drift.outcomes_classification), and
   ``REPORT_PREFIX/trend.html`` over every run's summary (drift.outcomes_trend), all or
   nothing (drift.publish);
5. print CloudWatch EMF lines: per matured cohort RealisedAUC, ObservedDefaultRate and
   PredictedDefaultRate (dimensions Model, ModelVersion), and per run CalibrationFailures and
   AucBelowReference (dimension Model), which the template's alarm watches.

Downloading is the local/embedded path: at real traffic the same SQL runs on Athena
(docs/outcomes.md). Environment: drift.config.OutcomesConfig.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drift.config import OutcomesConfig
from drift.publish import HTML, JSON, emf_line, list_keys, publish, s3_client
from drift.schedule import as_of_date

if TYPE_CHECKING:
    from contract.aws import LambdaContext, S3Client

def emf_lines(summary: dict[str, Any], config: OutcomesConfig, stamp: datetime | None = None
              ) -> list[str]:
    """The run's CloudWatch Embedded Metric Format lines."""
    stamp = stamp or datetime.now(UTC)
    per_version = dict.fromkeys(("RealisedAUC", "ObservedDefaultRate", "PredictedDefaultRate"),
                                "None")
    lines = [emf_line(config.metric_namespace, ["Model", "ModelVersion"], per_version, {
        "Model": config.model_name, "ModelVersion": str(c["model_version"]),
        "Cohort": c["cohort"], "RealisedAUC": c["auc"],
        "ObservedDefaultRate": c["observed_default_rate"],
        "PredictedDefaultRate": c["mean_predicted_pd"]}, stamp)
        for c in summary["cohorts"] if c["matured"] and c["auc"] is not None]
    failures = sum((c.get("calibration") or {}).get("verdict") == "fail"
                   for c in summary["cohorts"])
    below = sum(bool((c.get("auc_vs_reference") or {}).get("significantly_below"))
                for c in summary["cohorts"])
    lines.append(emf_line(config.metric_namespace, ["Model"], {
        "CalibrationFailures": "Count", "AucBelowReference": "Count"}, {
        "Model": config.model_name, "CalibrationFailures": failures,
        "AucBelowReference": below, "AsOf": summary["as_of"]}, stamp))
    return lines


def previous_summaries(s3: S3Client, config: OutcomesConfig, exclude: str
                       ) -> list[dict[str, Any]]:
    """The summaries of earlier runs (``REPORT_PREFIX<YYYY-MM>/summary.json``), for the
    trend page; a run's own month is left out (it is being rewritten)."""
    return [json.loads(s3.get_object(Bucket=config.report_bucket, Key=key)["Body"].read())
            for key in list_keys(s3, config.report_bucket, config.report_prefix)
            if key.endswith("/summary.json") and not key.startswith(exclude)]


def run(event: Any, config: OutcomesConfig, s3: S3Client) -> dict[str, Any]:
    """One run (see the module doc); returns the summary and the keys written."""
    from drift.compaction import compact_for_run
    from drift.outcomes import report_pages, summarise
    from drift.outcomes_join import Window, download_prefix, run_join
    from drift.outcomes_trend import render_trend

    as_of = as_of_date(event)
    window = Window.for_run(as_of, config.lookback_months)
    compacted = compact_for_run(s3, config, window)
    card = json.loads(s3.get_object(Bucket=config.report_bucket,
                                    Key=config.model_card_key)["Body"].read())
    if config.athena_workgroup and config.athena_database:
        import boto3

        from drift import athena

        joined = athena.run_join(boto3.client("athena"), config.athena_workgroup,
                                 config.athena_database, window)
        summary = summarise(joined, as_of, config.outcome_months, card)
    else:
        with tempfile.TemporaryDirectory(prefix="outcomes-") as tmp:
            work = Path(tmp)
            download_prefix(s3, f"s3://{config.capture_bucket}/{config.capture_prefix}",
                            work / "captures", keep=window.keeps_capture)
            download_prefix(s3, f"s3://{config.outcome_bucket}/{config.outcome_prefix}",
                            work / "outcomes", keep=window.keeps_outcome)
            download_prefix(s3, f"s3://{config.capture_bucket}/{config.decisions_prefix}",
                            work / "decisions", keep=window.keeps_decisions)
            joined = run_join(work / "captures", work / "outcomes",
                              decisions=work / "decisions", window=window)
            summary = summarise(joined, as_of, config.outcome_months, card)
    base = f"{config.report_prefix}{as_of:%Y-%m}/"
    pages = report_pages(joined, summary)  # adds the classification reports' figures
    trend = render_trend([*previous_summaries(s3, config, base), summary])
    files = [(base + "summary.json", (json.dumps(summary, indent=2) + "\n").encode(), JSON),
             *[(base + name, html.encode(), HTML) for name, html in pages.items()],
             (config.report_prefix + "trend.html", trend.encode(), HTML)]
    written = publish(s3, config.report_bucket, files, stale=[], latest=None)
    for line in emf_lines(summary, config):
        print(line, flush=True)
    return {**summary, "written": written, "compacted": compacted}


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (EventBridge monthly schedule)."""
    result = run(event, OutcomesConfig.from_env(), s3_client())
    return {"as_of": result["as_of"], "join": result["join"], "written": result["written"],
            "cohorts": len(result["cohorts"]), "compacted": result["compacted"]}
