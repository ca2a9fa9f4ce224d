"""Local drift report: ``python -m drift report --reference a.csv --current b.csv --output dir``.

Also ``python -m drift load-outcomes`` (drift.outcomes_load) and ``python -m drift outcomes``
(drift.outcomes): see docs/outcomes.md.

Writes report.html, report.json and summary.json (the same three files the Lambda writes) into
``dir``. Either CSV may be gzip-compressed and may carry extra columns: a training file's
TARGET and SK_ID_CURR, a raw application file's SK_ID_CURR are dropped. Both need the 120
schema fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd


def _report(args: argparse.Namespace) -> int:
    from drift.report import build_report

    reference = pd.read_csv(args.reference, low_memory=False)
    current = pd.read_csv(args.current, low_memory=False)
    result = build_report(reference, current)
    verdict = result.summary
    summary = {
        "status": "ok",
        "reference": str(args.reference),
        "current": str(args.current),
        **verdict,
    }
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(result.html, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(result.json, indent=2) + "\n", encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    drifted = ", ".join(c["column"] for c in verdict["drifted_columns"]) or "none"
    print(
        f"{verdict['drifted_count']} of {verdict['columns_tested']} columns drifted "
        f"(share {verdict['drift_share']:.3f}, dataset drift: {verdict['dataset_drift']}): "
        f"{drifted}\nwrote {out / 'report.html'}, report.json, summary.json"
    )
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _load_outcomes(args: argparse.Namespace) -> int:
    from drift.outcomes_load import HashKeys, load

    written = load(args.input, args.output, HashKeys.from_env(), args.as_of)
    print(f"wrote {len(written)} object(s):\n  " + "\n  ".join(written))
    return 0


def _outcomes(args: argparse.Namespace) -> int:
    from drift.challenger import ChallengerModel
    from drift.outcomes import analyse, describe, read_card, write_outputs

    challenger = ChallengerModel.load(args.challenger) if args.challenger else None
    summary, pages = analyse(args.captures, args.outcomes, args.as_of, args.outcome_months,
                             read_card(args.model_dir), challenger=challenger,
                             decisions=args.decisions, lookback_months=args.lookback_months)
    files = write_outputs(summary, pages, args.output)
    print(describe(summary) + "\nwrote " + ", ".join(map(str, files)))
    return 0


def _trend(args: argparse.Namespace) -> int:
    from drift.outcomes_trend import render_trend

    summaries = [json.loads(p.read_text(encoding="utf-8"))
                 for p in sorted(Path(args.reports).glob("**/summary.json"))]
    if not summaries:
        raise ValueError(f"no summary.json under {args.reports}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_trend(summaries), encoding="utf-8")
    print(f"{len(summaries)} runs -> wrote {args.output}")
    return 0


def _outcome_commands(commands: Any) -> None:
    from drift.outcomes import DEFAULT_LOOKBACK_MONTHS

    trend = commands.add_parser("outcomes-trend", help="the trend page over outcomes runs")
    trend.add_argument("--reports", required=True, type=Path,
                       help="a directory holding the runs' summary.json files")
    trend.add_argument("--output", required=True, type=Path, help="trend.html to write")
    loader = commands.add_parser("load-outcomes", help="load a loan-outcome export")
    loader.add_argument("--input", required=True, help="CSV, CSV.gz or Parquet; path or s3://")
    loader.add_argument("--output", required=True, help="layout root: directory or s3://")
    loader.add_argument("--as-of", type=_date, default=None, help="default: today (UTC)")
    outcomes = commands.add_parser("outcomes", help="outcomes analysis per cohort")
    outcomes.add_argument("--captures", required=True, help="capture layout: dir or s3://")
    outcomes.add_argument("--outcomes", required=True,
                          help="an export file, or the outcome layout (dir or s3://)")
    outcomes.add_argument("--as-of", type=_date, default=datetime.now(UTC).date())
    outcomes.add_argument("--outcome-months", type=int, default=12)
    outcomes.add_argument("--output", required=True, type=Path, help="output directory")
    outcomes.add_argument("--model-dir", type=Path, default=None, help="the champion bundle")
    outcomes.add_argument("--challenger", default=None,
                          help="a challenger bundle: directory or s3:// prefix")
    outcomes.add_argument("--decisions", type=Path, default=None,
                          help="the decisions table (directory) to compact into and read; "
                               "default: a temporary one")
    outcomes.add_argument("--lookback-months", type=int, default=DEFAULT_LOOKBACK_MONTHS,
                          help="months before the as-of month that the join reads")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drift", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write an Evidently data-drift report")
    report.add_argument("--reference", required=True, type=Path, help="reference CSV")
    report.add_argument("--current", required=True, type=Path, help="current CSV")
    report.add_argument("--output", required=True, type=Path, help="output directory")
    _outcome_commands(commands)
    args = parser.parse_args(argv)
    if args.command in {"load-outcomes", "outcomes", "outcomes-trend"}:
        run = {"load-outcomes": _load_outcomes, "outcomes": _outcomes,
               "outcomes-trend": _trend}[args.command]
        try:
            return run(args)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for path in (args.reference, args.current):
        if not path.is_file():
            parser.error(f"no such file: {path}")
    try:
        return _report(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
