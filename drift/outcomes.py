"""Outcomes analysis end to end, on local files or S3: join, cohorts, summary and report.

``python -m drift outcomes --captures C --outcomes O --as-of D --outcome-months N
--output DIR [--model-dir BUNDLE] [--challenger BUNDLE] [--decisions DIR]
[--lookback-months 25]``

* ``C``: a local directory or ``s3://`` prefix in the Firehose capture layout;
* ``O``: an export file (``SK_ID_CURR,outcome,observed_at``: loaded first with
  drift.outcomes_load, hashing with CAPTURE_HASH_KEY), or a directory / ``s3://`` prefix in
  the outcome layout;
* the bundle's model card gives the threshold, the cost of a missed defaulter and the
  ``outcome_reference`` the realised AUC is tested against;
* ``--challenger``: a challenger bundle (directory or ``s3://`` prefix) scored on each
  matured cohort's booked loans (drift.challenger).

As the monthly job does, the captures of the lookback's months before as_of's are compacted
into a decisions table (drift.compaction; ``--decisions DIR`` keeps it, default a temporary
directory) and the join reads that table for those months, the captures for as_of's.
S3 prefixes are downloaded into a temporary directory first (DuckDB's httpfs is not used).
Writes ``summary.json`` (with the ``cohorts`` list), ``report.html`` and, per matured cohort,
Evidently's classification report (drift.outcomes_classification) into DIR.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drift import cohorts as cohorts_mod
from drift.config import OutcomesConfig
from drift.outcomes_join import JoinResult, Window, download_prefix, run_join
from drift.outcomes_load import HashKeys, is_s3, load

if TYPE_CHECKING:
    from contract.aws import S3Client
    from drift.challenger import ChallengerModel

DEFAULT_OUTCOME_MONTHS = 12
#: Months before as_of's that the join reads: the monthly job's default (LOOKBACK_MONTHS).
DEFAULT_LOOKBACK_MONTHS = OutcomesConfig.lookback_months


def read_card(model_dir: Path | None) -> dict[str, Any] | None:
    """The bundle's model card, or None without a bundle."""
    if model_dir is None:
        return None
    from contract.bundle import CARD_FILE

    path = Path(model_dir) / CARD_FILE
    if not path.is_file():
        raise ValueError(f"no model card at {path}")
    card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return card


def _local(source: str | Path, work: Path, name: str, s3: S3Client | None) -> Path:
    if is_s3(source):
        from drift.outcomes_load import s3_client

        target = work / name
        target.mkdir(parents=True, exist_ok=True)
        download_prefix(s3 or s3_client(), str(source), target)
        return target
    path = Path(source)
    if not path.exists():
        raise ValueError(f"no such file or directory: {path}")
    return path


def _outcome_layout(source: str | Path, work: Path, as_of: date, s3: S3Client | None
                    ) -> Path:
    """A local outcome layout: the given one, or the export loaded into a fresh one."""
    text = str(source)
    if not is_s3(text) and Path(text).is_dir():
        return Path(text)
    if is_s3(text) and not text.endswith((".csv", ".csv.gz", ".gz", ".parquet", ".pq")):
        return _local(text, work, "outcomes", s3)
    target = work / "outcomes-loaded"
    load(text, target, HashKeys.from_env(), as_of, s3)
    return target


def analyse(captures: str | Path, outcomes: str | Path, as_of: date, outcome_months: int,
            card: dict[str, Any] | None, s3: S3Client | None = None,
            challenger: ChallengerModel | None = None, decisions: Path | None = None,
            lookback_months: int = DEFAULT_LOOKBACK_MONTHS
            ) -> tuple[dict[str, Any], dict[str, str]]:
    """The summary (join counts, cohorts and notes) and the run's pages (report_pages)."""
    from drift.compaction import compact_window

    window = Window.for_run(as_of, lookback_months)
    with tempfile.TemporaryDirectory(prefix="outcomes-") as tmp:
        work = Path(tmp)
        capture_root = _local(captures, work, "captures", s3)
        outcome_root = _outcome_layout(outcomes, work, as_of, s3)
        table = Path(decisions) if decisions is not None else work / "decisions"
        compact_window(capture_root, table, window)
        joined = run_join(capture_root, outcome_root, decisions=table, window=window)
    summary = summarise(joined, as_of, outcome_months, card, challenger)
    return summary, report_pages(joined, summary)


def summarise(joined: JoinResult, as_of: date, outcome_months: int,
              card: dict[str, Any] | None, challenger: ChallengerModel | None = None
              ) -> dict[str, Any]:
    reference = cohorts_mod.Reference.from_card(card)
    return {
        "as_of": as_of.isoformat(), "outcome_months": outcome_months,
        "model_card_version": reference.model_version,
        "join": cohorts_mod.join_counts(joined.loans),
        "cohorts": cohorts_mod.cohorts(joined.loans, joined.counts, as_of, outcome_months,
                                       reference, challenger),
        "notes": {"selection": cohorts_mod.SELECTION_NOTE,
                  "false_positives": cohorts_mod.FP_NOTE},
    }


def report_pages(joined: JoinResult, summary: dict[str, Any]) -> dict[str, str]:
    """The run's pages by file name: Evidently's classification report per matured cohort
    (whose figures it adds to the summary), then report.html, which links them."""
    from drift.outcomes_classification import classification_reports
    from drift.outcomes_report import render

    classification = classification_reports(joined.loans, summary)
    return {"report.html": render(summary), **classification}


def write_outputs(summary: dict[str, Any], pages: dict[str, str], output: Path) -> list[Path]:
    """summary.json and the pages, into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    files = [output / "summary.json"]
    files[0].write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    for name, html in pages.items():
        files.append(output / name)
        files[-1].write_text(html, encoding="utf-8")
    return files


def describe(summary: dict[str, Any]) -> str:
    """One line per cohort for the terminal."""
    join = summary["join"]
    lines = [f"{join['outcomes']} outcomes: {join['matched']} matched, {join['unmatched']} "
             f"unmatched, {join['ambiguous']} ambiguous, {join['matched_to_decline']} matched "
             f"to a decline, {join['rescored_clients']} rescored clients"]
    for c in summary["cohorts"]:
        head = (f"{c['cohort']} v{c['model_version']}: {c['scored']} scored, {c['approved']} "
                f"approved, {c['with_outcome']} with outcome")
        if c["auc"] is not None:
            head += (f"; default rate {c['observed_default_rate']:.4f} vs PD "
                     f"{c['mean_predicted_pd']:.4f} ({c['calibration']['verdict']}), AUC "
                     f"{c['auc']:.4f} [{c['auc_ci95'][0]:.4f}, {c['auc_ci95'][1]:.4f}]")
        elif not c["matured"]:
            head += " (not matured)"
        lines.append(head)
    return "\n".join(lines)
