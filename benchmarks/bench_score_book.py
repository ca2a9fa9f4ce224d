"""Portfolio re-scoring benchmark (docs/portfolio-scoring.md), with the API path measured in
the same run as the baseline:

* the API path: /predict/batch through the Lambda handler (Mangum), 1,000 applications per
  call, JSON bodies built beforehand; rows per CPU-second, without reasons and with 4
  (each speed figure is the median of ``--repeat`` runs, the two paths taking turns);
* the one-machine command end to end (read a CSV.gz, validate, score, write Parquet), one
  worker, on the full-size book below: rows per CPU-second (= per core), without reasons
  and with 4, and the ratio to the API path;
* the full-size book: 307,511 synthetic rows (the generator's Home Credit size) with 4
  reasons on every core: wall time;
* memory: peak RSS of the command (its own, its largest worker's, and the sum of the main
  process and every worker at that largest worker's peak, an upper bound) on 300,000 and on
  3,000,000 rows (the 300k book's rows repeated ten times in one Parquet file); ``--big``
  runs the 3M one (minutes on a shared 2-core machine).

    .venv/bin/python -m benchmarks.bench_score_book --bundle function/model [--big]

Every command runs in a fresh subprocess (``python -m portfolio score``), as a user runs it;
rows/s per core divide by the process tree's CPU time, so other load on the machine inflates
wall times more than these.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "bench_score_book"
FULL_ROWS = 307_511
TARGETS = {"rows_per_core_no_reasons": 50_000, "rows_per_core_4_reasons": 10_000,
           "full_book_s": 30.0, "peak_rss_mb": 1_024}


def _book(rows: int, seed: int) -> Path:
    """A synthetic book of ``rows`` rows (CSV.gz), generated once under artifacts/."""
    from training.synthetic import write_sample

    path = ARTIFACTS / f"book-{rows}-{seed}.csv.gz"
    if not path.is_file():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        print(f"generating {rows:,} synthetic rows -> {path}", file=sys.stderr)
        write_sample(path, rows, seed=seed)
    return path


def _repeated_parquet(source: Path, times: int) -> Path:
    """``source``'s rows ``times`` over in one typed Parquet file (one row group per copy),
    as pandas writes a book."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = ARTIFACTS / f"{source.name.split('.')[0]}-x{times}.parquet"
    if path.is_file():
        return path
    table = pa.Table.from_pandas(pd.read_csv(source), preserve_index=False)
    with pq.ParquetWriter(path, table.schema) as writer:
        for _ in range(times):
            writer.write_table(table, row_group_size=100_000)
    return path


def _score(bundle: Path, book: Path, reasons: int, workers: int, quiet: bool = True
           ) -> dict[str, Any]:
    """Run the command in a subprocess; its summary plus wall, CPU and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-book-") as out:
        command = [sys.executable, "-m", "portfolio", "score", "--input", str(book),
                   "--output", str(Path(out) / "scores"), "--reasons", str(reasons),
                   "--workers", str(workers)] + (["--no-progress"] if quiet else [])
        script = (
            "import resource, runpy, sys, json\n"
            f"sys.argv = {['portfolio', *command[3:]]!r}\n"
            "try:\n    runpy.run_module('portfolio', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            # VmHWM, not ru_maxrss: Linux carries the forking parent's peak across exec
            # into ru_maxrss, so a big benchmark process would inflate the command's.
            "own = int([l.split()[1] for l in open('/proc/self/status')"
            " if l.startswith('VmHWM')][0])\n"
            "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(json.dumps({'rss_self_kb': own, 'rss_worker_kb': kids}))\n"
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE if quiet else None, text=True,
                              env={**os.environ, "MODEL_DIR": str(bundle)}, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"score failed: {done.stderr}")
        summary = json.loads((Path(out) / "scores" / "summary.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = json.loads(done.stdout.strip().splitlines()[-1])
    if summary["rows_scored"] != summary["rows_read"]:
        raise SystemExit(f"{book}: {summary['rows_rejected']} rows rejected")
    return {"rows": summary["rows_scored"], "wall_s": wall, "cpu_s": cpu,
            "command_s": summary["duration_s"], **rss}


def _api_rows_per_cpu_s(bundle: Path, book: Path, reasons: int, rows: int = 10_000) -> float:
    """/predict/batch through the Lambda handler: rows per CPU-second of this process."""
    import pandas as pd

    from infra.lambda_events import FakeLambdaContext, http_api_event, to_application
    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.handler import ScoringMangum

    handler = ScoringMangum(create_app(Settings(model_dir=bundle)), lifespan="off")
    frame = pd.read_csv(book, nrows=rows)
    apps = [to_application(r) for r in frame.to_dict("records")]
    bodies = [json.dumps({"applications": apps[i:i + 1_000]}) for i in range(0, rows, 1_000)]
    events = [http_api_event("POST", "/predict/batch", body=b, query={"reasons": str(reasons)})
              for b in bodies]
    handler(events[0], FakeLambdaContext())  # warm
    started = time.process_time()
    for event in events:
        response = handler(event, FakeLambdaContext())
        assert response["statusCode"] == 200, response["body"][:300]
    return rows / (time.process_time() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=REPO / "function" / "model")
    parser.add_argument("--big", action="store_true", help="also the 3,000,000-row book")
    parser.add_argument("--full-rows", type=int, default=FULL_ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("speed", "full", "memory"), action="append",
                        help="run only these parts (default: all)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each speed figure, whose median is reported (this "
                             "machine's CPU time varies by +-10%% from run to run)")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("scoring").setLevel(logging.WARNING)
    from scoring import logs

    logs.set_stream(open(os.devnull, "w"))  # noqa: SIM115 (the request log lines)
    full = _book(args.full_rows, seed=0)
    report: dict[str, Any] = {"cores": os.cpu_count()}
    parts = set(args.only or ("speed", "full", "memory"))
    for k in (0, 4) if "speed" in parts else ():
        apis, cores = [], []
        for _ in range(args.repeat):  # taking turns, so a slow spell hits both paths
            apis.append(_api_rows_per_cpu_s(args.bundle, full, k))
            # The full-size book, so start-up (imports, the bundle: about 0.4 CPU-s) weighs
            # as it does on a real book.
            ours = _score(args.bundle, full, k, workers=1)
            cores.append(ours["rows"] / ours["cpu_s"])
        api, per_core = statistics.median(apis), statistics.median(cores)
        report[f"reasons_{k}"] = {"api_rows_per_cpu_s": round(api),
                                  "command_rows_per_cpu_s": round(per_core),
                                  "ratio_to_api": round(per_core / api, 2),
                                  "api_runs": [round(x) for x in apis],
                                  "command_runs": [round(x) for x in cores]}
        print(f"reasons={k}: /predict/batch {api:,.0f} rows/s per core | score-book "
              f"{per_core:,.0f} rows/s per core (x{per_core / api:.1f}); target "
              f"{TARGETS['rows_per_core_no_reasons' if k == 0 else 'rows_per_core_4_reasons']:,}"
              f" (medians of {args.repeat} runs; score-book "
              f"{', '.join(f'{x:,.0f}' for x in cores)})")
    if "full" in parts:
        _full_book(args.bundle, full, report)
    if "memory" in parts:
        _memory(args.bundle, full, args.big, report)
    print(json.dumps(report, indent=2))


def _full_book(bundle: Path, full: Path, report: dict[str, Any]) -> None:
    print(f"full book: {FULL_ROWS:,} rows, 4 reasons, {os.cpu_count()} workers "
          "(progress bar below)", file=sys.stderr)
    big = _score(bundle, full, 4, workers=os.cpu_count() or 1, quiet=False)
    report["full_book"] = {"rows": big["rows"], "wall_s": round(big["wall_s"], 1),
                           "rows_per_s": round(big["rows"] / big["wall_s"]),
                           "peak_rss_mb_self": round(big["rss_self_kb"] / 1024),
                           "peak_rss_mb_worker": round(big["rss_worker_kb"] / 1024)}
    print(f"full book: {big['rows']:,} rows with 4 reasons in {big['wall_s']:.1f} s "
          f"(target {TARGETS['full_book_s']:.0f} s); peak RSS {report['full_book']}")


def _memory(bundle: Path, full: Path, big_book: bool, report: dict[str, Any]) -> None:
    memory = {}
    sizes = [(300_000, _repeated_parquet(full, 1))]
    if big_book:
        sizes.append((3_000_000, _repeated_parquet(full, 10)))
    for label, path in sizes:
        run = _score(bundle, path, 0, workers=os.cpu_count() or 1)
        memory[str(label)] = {"rows": run["rows"], "wall_s": round(run["wall_s"], 1),
                              "peak_rss_mb_self": round(run["rss_self_kb"] / 1024),
                              "peak_rss_mb_worker": round(run["rss_worker_kb"] / 1024),
                              "peak_rss_mb_all_at_most": round(
                                  (run["rss_self_kb"] + (os.cpu_count() or 1)
                                   * run["rss_worker_kb"]) / 1024)}
        print(f"memory, ~{label:,} rows (Parquet, no reasons): {memory[str(label)]}")
    report["memory"] = memory


if __name__ == "__main__":
    main()
