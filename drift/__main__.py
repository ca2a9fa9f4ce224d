"""Local drift report: ``python -m drift report --reference a.csv --current b.csv --output dir``.

Writes report.html, report.json and summary.json (the same three files the Lambda writes) into
``dir``. Either CSV may be gzip-compressed and may carry extra columns: a training file's
TARGET and SK_ID_CURR, a raw application file's SK_ID_CURR are dropped. Both need the 120
schema fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drift", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write an Evidently data-drift report")
    report.add_argument("--reference", required=True, type=Path, help="reference CSV")
    report.add_argument("--current", required=True, type=Path, help="current CSV")
    report.add_argument("--output", required=True, type=Path, help="output directory")
    args = parser.parse_args(argv)
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
