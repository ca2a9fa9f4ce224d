"""Decisions-table sizes: bytes per record of a month of captures compacted into Parquet
(drift.compaction), per column, and what that means at 50 requests/s.

    python -m benchmarks.bench_compaction [--captures 250000] [--rate 50]

The captures are written once into a temporary directory in the real layout (gzip JSON
Lines, hourly partitions over one month, ~4,000 records per object, as in
benchmarks.bench_outcomes), but every record has its own synthetic application
(infra.synthetic_traffic.applications, full-precision amounts, so they compress worse than
real applications' rounded ones), a random request id (a UUID) and a 64-hex client hash.
The month is compacted with DuckDB (the same SELECT Athena would UNLOAD); the Parquet
file's column chunks give the bytes per record of each column, from which:

* the decisions table's storage for 25 months at ``--rate`` (S3 Standard, $0.023/GB-month);
* the bytes Athena scans for one month of records: the join reads every column of the
  table (features included), the cohort counts three;
* the same month as gzip JSON captures (what the join scanned before compaction).

Sizes, not timings: the figures do not depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.capture_month import write_month

KEY = b"bench-compaction-key"
MONTH_DAYS = 30
S3_GB_MONTH = 0.023
ATHENA_PER_TB = 5.0
RETENTION_MONTHS = 25
#: What each query reads of the decisions table (drift/sql/*.sql).
JOIN_COLUMNS = ("captured_at", "request_id", "model_version", "client_id_hash", "hash_key_id",
                "probability", "decision", "features")
COUNTS_COLUMNS = ("captured_at", "model_version", "decision")


def write_captures(root: Path, count: int) -> int:
    """``count`` capture records over January 2025 in the Firehose layout, each with its own
    synthetic application and a random request id; gzip bytes."""
    from infra.synthetic_traffic import applications

    def features(first: int, n: int) -> list[str]:
        return [json.dumps(app, separators=(",", ":")) for app in applications(n, seed=first)]

    return write_month(root, count, KEY, features=features, client=lambda i: i,
                       request_id=lambda _, rng: str(uuid.UUID(int=rng.getrandbits(128),
                                                               version=4)),
                       compresslevel=6)


def column_bytes(parquet: Path) -> dict[str, int]:
    """Compressed bytes of each top-level column (a struct's leaves summed)."""
    import duckdb

    rows = duckdb.connect().execute(
        "SELECT path_in_schema, sum(total_compressed_size) FROM "
        f"parquet_metadata('{parquet}') GROUP BY path_in_schema").fetchall()
    sizes: dict[str, int] = {}
    for path, size in rows:
        top = str(path).split(",")[0].strip()
        sizes[top] = sizes.get(top, 0) + int(size)
    return sizes


def main(argv: list[str] | None = None) -> None:
    from drift.compaction import compact_local

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=250_000)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    args = parser.parse_args(argv)
    per_month = args.rate * 86_400 * MONTH_DAYS
    with tempfile.TemporaryDirectory(prefix="bench-compaction-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        gz = write_captures(root / "captures", args.captures)
        print(f"{args.captures:,} captures written ({gz / 1e6:.1f} MB gzip JSON) in "
              f"{time.perf_counter() - start:.0f} s")
        written = compact_local(root / "captures", root / "decisions", "2025-01", threads=2)
        assert written is not None
        total = written.stat().st_size
        sizes = column_bytes(written)
    n = args.captures
    print(f"\nParquet (zstd) {total / n:.1f} bytes/record; gzip JSON {gz / n:.1f} bytes/record")
    for name, size in sizes.items():
        print(f"  {name:<16} {size / n:8.2f} bytes/record")
    join = sum(sizes[c] for c in JOIN_COLUMNS) / n
    narrow = sum(sizes[c] for c in JOIN_COLUMNS if c != "features") / n
    counts = sum(sizes[c] for c in COUNTS_COLUMNS) / n
    stored = total / n * per_month * RETENTION_MONTHS
    print(f"\nAt {args.rate:g} requests/s: {per_month / 1e6:.1f} million records a month")
    print(f"  decisions table, {RETENTION_MONTHS} months: {stored / 1e9:,.0f} GB, "
          f"${stored / 1e9 * S3_GB_MONTH:,.2f}/month in S3 Standard")
    for label, per_record in (("join, all columns", join),
                              ("join, without features", narrow),
                              ("cohort counts", counts),
                              ("gzip JSON captures (no compaction)", gz / n)):
        scanned = per_record * per_month
        print(f"  Athena scan of one month, {label}: {scanned / 1e9:,.1f} GB, "
              f"${scanned / 1e12 * ATHENA_PER_TB:,.3f}")


if __name__ == "__main__":
    main()
