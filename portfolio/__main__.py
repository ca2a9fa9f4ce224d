"""``python -m portfolio score --input BOOK --output DIR [--reasons K] [--workers N]``
(``make score-book``) and ``python -m portfolio split --input BOOK --output DIR
--shard-rows N`` (``make split-book``). The bundle comes from MODEL_DIR or MODEL_S3_URI,
as the scoring function's does. Errors are one sentence on stderr, exit status 2."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

# One scoring process per core: no BLAS threads beside it (TreeSHAP's products). OpenBLAS
# sizes its pool when numpy loads, so this comes first; the workers inherit it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from portfolio.read import DEFAULT_CHUNK_ROWS, BookError
from portfolio.run import FORMATS, Job, RunError, keep_pandas_out, score_book
from scoring.config import MAX_REASONS, load_settings
from scoring.model import BundleError, download_bundle


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m portfolio", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="score a whole book")
    score.add_argument("--input", required=True, help="CSV, CSV.gz or Parquet; path or s3://")
    score.add_argument("--output", required=True, type=Path, help="output directory")
    score.add_argument("--reasons", type=int, default=0, help=f"reasons per row (0-{MAX_REASONS})")
    score.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="scoring processes (default: every core)")
    score.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS)
    score.add_argument("--format", choices=FORMATS, default="parquet")
    score.add_argument("--no-progress", action="store_true")
    split = commands.add_parser("split", help="cut a book into shards (Step Functions input)")
    split.add_argument("--input", required=True)
    split.add_argument("--output", required=True, help="directory or s3://bucket/prefix/")
    split.add_argument("--shard-rows", type=int, default=100_000)
    return parser


def _model_dir() -> Path:
    settings = load_settings()
    if settings.model_s3_uri:
        return download_bundle(settings.model_s3_uri)
    return settings.model_dir


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "split":
            from portfolio.split import split_book

            shards = split_book(args.input, args.output, args.shard_rows)
            print(f"{len(shards)} shard(s) under {args.output}")
            return 0
        if not 0 <= args.reasons <= MAX_REASONS:
            raise RunError(f"--reasons must be between 0 and {MAX_REASONS}")
        model_dir = _model_dir()
        try:
            job = Job(input=args.input, output=args.output, reasons=args.reasons,
                      workers=args.workers, chunk_rows=args.chunk_rows, format=args.format,
                      progress=not args.no_progress)
            summary = score_book(job, model_dir)
        finally:
            if load_settings().model_s3_uri:
                shutil.rmtree(model_dir, ignore_errors=True)
    except (BookError, RunError, BundleError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = ("rows_read", "rows_scored", "rows_rejected", "declines", "decline_rate",
            "model_version", "duration_s", "rows_per_s")
    print(json.dumps({k: summary[k] for k in keys}))
    print(f"output: {args.output} (summary.json, rejects.jsonl, _SUCCESS)")
    return 0


if __name__ == "__main__":
    keep_pandas_out()
    sys.exit(main())
