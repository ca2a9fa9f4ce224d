"""Outcomes join benchmark: DuckDB's time and peak memory for N captured records (the real
gzip JSON Lines Firehose layout, 120 applicant fields each) against M outcomes.

    python -m benchmarks.bench_outcomes [--captures 1000000] [--outcomes 100000]

The captures are written once into a temporary directory (hourly partitions over one month,
~4,000 records per object, as Firehose would at this rate); their applicant fields come from
a pool of 2,000 synthetic applications, so the JSON parsed is full-size while the files
compress better than real traffic would. The outcomes are written by the outcome loader's
encoder (client-hash records, some unmatched, some for rescored clients). The join
(drift.outcomes_join.run_join: both SQL texts, the result fetched into pandas with the
features of every matched loan) runs in a child process, whose peak RSS (DuckDB's native
memory included) is read from the kernel. Baseline in the same run: the same child reading
the outcomes alone (interpreter, imports, DuckDB start-up).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.capture_month import write_month
from contract.capture_format import client_hash, hash_key_id

KEY = b"bench-outcomes-key"
POOL = 2_000

_CHILD = """
import sys, time
from pathlib import Path
from drift.outcomes_join import run_join
start = time.perf_counter()
result = run_join(Path(sys.argv[1]), Path(sys.argv[2]), threads=2)
seconds, matched = time.perf_counter() - start, int((result.loans["status"] == "matched").sum())
print(f"RESULT {seconds:.3f} {len(result.loans)} {matched} {len(result.counts)}")
"""


def write_captures(root: Path, count: int, clients: int) -> float:
    """``count`` records from ``clients`` distinct clients over one month; returns MB."""
    from infra.synthetic_traffic import applications

    pool = [json.dumps(app, separators=(",", ":")) for app in applications(POOL, seed=3)]
    size = write_month(root, count, KEY,
                       features=lambda first, n: [pool[i % POOL] for i in range(first, first + n)],
                       client=lambda i: i % clients, request_id=lambda i, _: f"r{i}",
                       compresslevel=1)
    return size / 1e6


def write_outcomes(root: Path, count: int, clients: int) -> None:
    from contract.outcome_format import OutcomeRecord
    from drift.outcomes_load import encode_objects, write_objects

    rng = random.Random(1)
    records: list[OutcomeRecord] = []
    key_id = hash_key_id(KEY)
    for n in range(count):
        client = n if n < clients else 10**12 + n  # the last ones match no capture
        digest = client_hash(KEY, client)
        records.append({"loan_id": digest, "request_id": None, "client_id_hash": digest,
                        "hash_key_id": key_id, "outcome": int(rng.random() < 0.08),
                        "observed_at": "2026-02-28", "decided_at": None})
    write_objects(encode_objects(records), root)


def child(captures: Path, outcomes: Path) -> tuple[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-c", _CHILD, str(captures), str(outcomes)],
                         check=True, capture_output=True, text=True).stdout.strip()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return out, max(peak, before) / 1024


def _result(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"the join's child process printed no result:\n{output[-2000:]}")
    return lines[-1].split()[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=100_000)
    args = parser.parse_args(argv)
    clients = int(args.captures * 0.8)  # a fifth of the records are rescorings
    with tempfile.TemporaryDirectory(prefix="bench-outcomes-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        megabytes = write_captures(root / "captures", args.captures, clients)
        write_outcomes(root / "layout", args.outcomes, min(clients, int(args.outcomes * 0.95)))
        print(f"wrote {args.captures:,} captures ({megabytes:,.0f} MB gzip) and "
              f"{args.outcomes:,} outcomes in {time.perf_counter() - began:.0f} s",
              file=sys.stderr)
        baseline, base_mb = child(root / "empty", root / "layout")
        measured, peak_mb = child(root / "captures", root / "layout")
    seconds, loans, matched, cohorts = _result(measured)
    base_seconds = _result(baseline)[0]
    print(f"outcomes join, DuckDB, 2 threads: {args.captures:,} captures x {args.outcomes:,} "
          f"outcomes -> {int(loans):,} loans ({int(matched):,} matched, {cohorts} cohort "
          f"rows) in {float(seconds):.1f} s, peak RSS {peak_mb:,.0f} MB "
          f"(outcomes alone: {float(base_seconds):.1f} s, {base_mb:,.0f} MB); "
          f"targets 60 s and 2,048 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
