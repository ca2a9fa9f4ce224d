"""Monthly compaction of captures into the decisions table: Parquet, one partition a month.

Captures (gzip JSON Lines) expire after CaptureRetentionDays, long before a cohort's
outcomes arrive, and Regulation B (§1002.12(b)) keeps application records 25 months. So
each month the outcomes job writes the previous month's captures as
``<decisions prefix>month=YYYY-MM/`` Parquet (``drift/sql/compact_decisions.sql``: the
columns the join reads, applicant fields included), which lives 25 months
(template.yaml) and which the join reads instead of the captures (``Window``).

One SELECT, two wrappers:

* DuckDB (tests, ``make outcomes``, the job's default engine): ``COPY (...) TO`` a file,
  which replaces the month's files (locally by rename; in S3 the month's other objects are
  deleted after the upload);
* Athena (``OutcomesEngine=athena``): the month's objects are deleted, then
  ``UNLOAD (...) TO`` the month's prefix (UNLOAD needs an empty destination).

A month is rewritten whole, never appended to, so a rerun never duplicates. Which months:
the month before the run's, always (its captures are complete: the job runs after the
month's last Firehose buffer), and any earlier month of the window that has captures but
no partition yet (a first deployment, a missed run).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from drift.config import OutcomesConfig
from drift.outcomes_join import (
    DAY,
    MONTH,
    SQL_DIR,
    Window,
    capture_files,
    connect,
    day_before,
    download_prefix,
)

if TYPE_CHECKING:
    from contract.aws import S3Client

#: The decisions table's prefix in the capture bucket (the job's DECISIONS_PREFIX default).
DEFAULT_PREFIX = OutcomesConfig.decisions_prefix
COMPACT_SQL = SQL_DIR / "compact_decisions.sql"
PARQUET_FILE = "decisions.parquet"
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd"
ATHENA_OPTIONS = "format = 'PARQUET', compression = 'ZSTD'"


def next_month(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"


def months(first: str, end: str) -> list[str]:
    """The months ``first`` <= m < ``end`` (YYYY-MM)."""
    found, month = [], first
    while month < end:
        found.append(month)
        month = next_month(month)
    return found


def compact_sql(month: str) -> str:
    """The compaction's SELECT for one month (YYYY-MM)."""
    date.fromisoformat(f"{month}-01")  # a ValueError, never a malformed query
    first, last = dt_range(month)
    return Template(COMPACT_SQL.read_text(encoding="utf-8")).substitute(
        month=month, dt_from=first, dt_to=last)


def unload_sql(month: str, location: str) -> str:
    """Athena's statement: the SELECT unloaded as Parquet into ``location`` (s3://.../)."""
    return f"UNLOAD ({compact_sql(month)}) TO '{location}' WITH ({ATHENA_OPTIONS})"


def dt_range(month: str) -> tuple[str, str]:
    """The capture partitions a month's compaction reads: from the day before the month to
    the day after it (a capture's dt can be a day off its captured_at)."""
    return day_before(f"{month}-01"), f"{next_month(month)}-01"


def keeps_month(month: str) -> Callable[[str], bool]:
    """A filter of capture paths: the dt partitions the month's compaction reads."""
    first, last = dt_range(month)

    def keep(path: str) -> bool:
        day = DAY.search(path)
        return day is not None and first <= day[1] <= last
    return keep


def to_compact(window: Window, with_captures: Iterable[str], compacted: Iterable[str]
               ) -> list[str]:
    """The window's months to (re)write: the previous month, and months with captures but
    no partition."""
    previous, have, done = previous_month(window.open_month), set(with_captures), set(compacted)
    return [m for m in months(window.first_month, window.open_month)
            if m in have and (m == previous or m not in done)]


# ------------------------------------------------------------------ DuckDB, local files


def compact_local(captures: Path, decisions: Path, month: str, threads: int | None = None
                  ) -> Path | None:
    """Write ``decisions/month=<month>/decisions.parquet`` from the local capture layout,
    replacing the month's files; None (nothing written) when the month has no captures."""
    keep = keeps_month(month)
    files = [f for f in capture_files(captures)
             if keep(Path(f).relative_to(captures).as_posix())]
    if not files:
        return None
    target = decisions / f"month={month}"
    target.mkdir(parents=True, exist_ok=True)
    staged = target / f".{PARQUET_FILE}.tmp"
    con = connect(files, [], threads=threads)
    try:
        con.execute(f"COPY ({compact_sql(month)}) TO '{_quoted(staged)}' ({PARQUET_OPTIONS})")
    finally:
        con.close()
    for other in target.iterdir():
        if other != staged:
            other.unlink()
    return staged.replace(target / PARQUET_FILE)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def local_capture_months(captures: Path) -> set[str]:
    """Months that have capture partitions in a local layout."""
    found = set()
    for path in capture_files(captures):
        day = DAY.search(Path(path).relative_to(captures).as_posix())
        if day:
            found.add(day[1][:7])
    return found


def partitions(decisions: Path) -> set[str]:
    """Months that have a partition in a local decisions table."""
    return {m[1] for p in decisions.glob("month=*/*.parquet")
            if (m := MONTH.search(p.relative_to(decisions).as_posix()))}


def compact_window(captures: Path, decisions: Path, window: Window,
                   threads: int | None = None) -> list[str]:
    """Compact the window's months that need it (:func:`to_compact`); the months written."""
    wanted = to_compact(window, local_capture_months(captures), partitions(decisions))
    return [m for m in wanted if compact_local(captures, decisions, m, threads)]


# ------------------------------------------------------------------ S3 (the monthly job)


def s3_capture_months(s3: S3Client, bucket: str, capture_prefix: str, window: Window
                      ) -> set[str]:
    """The window's months that still have capture objects."""
    paginator = s3.get_paginator("list_objects_v2")
    return {m for m in months(window.first_month, window.open_month)
            if any(page.get("Contents") for page in paginator.paginate(
                Bucket=bucket, Prefix=f"{capture_prefix}dt={m}-"))}


def s3_partitions(s3: S3Client, bucket: str, prefix: str) -> set[str]:
    """Months that have objects under ``prefix`` (``month=YYYY-MM/``)."""
    found = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            month = MONTH.search(item["Key"][len(prefix):])
            if month:
                found.add(month[1])
    return found


def delete_prefix(s3: S3Client, bucket: str, prefix: str, keep: str | None = None) -> int:
    """Delete the objects under ``prefix`` (but ``keep``); how many."""
    keys = [item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                     Prefix=prefix)
            for item in page.get("Contents", []) if item["Key"] != keep]
    for first in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[first:first + 1000]], "Quiet": True})
    return len(keys)


def compact_s3_duckdb(s3: S3Client, bucket: str, capture_prefix: str, decisions_prefix: str,
                      month: str) -> bool:
    """One month with DuckDB: download its captures, write the Parquet file, upload it over
    the month's partition and remove the partition's other objects."""
    with tempfile.TemporaryDirectory(prefix="compaction-") as tmp:
        work = Path(tmp)
        download_prefix(s3, f"s3://{bucket}/{capture_prefix}", work / "captures",
                        keep=keeps_month(month))
        written = compact_local(work / "captures", work / "decisions", month)
        if written is None:
            return False
        key = f"{decisions_prefix}month={month}/{PARQUET_FILE}"
        s3.put_object(Bucket=bucket, Key=key, Body=written.read_bytes(),
                      ContentType="application/vnd.apache.parquet")
        delete_prefix(s3, bucket, f"{decisions_prefix}month={month}/", keep=key)
    return True


def compact_s3_athena(athena: Any, s3: S3Client, bucket: str, decisions_prefix: str,
                      month: str, workgroup: str, database: str) -> bool:
    """One month on Athena: empty the month's partition, then UNLOAD into it."""
    from drift.athena import run_query

    prefix = f"{decisions_prefix}month={month}/"
    delete_prefix(s3, bucket, prefix)
    run_query(athena, unload_sql(month, f"s3://{bucket}/{prefix}"), workgroup, database)
    return True


def compact_s3(s3: S3Client, bucket: str, capture_prefix: str, decisions_prefix: str,
               window: Window, athena: tuple[Any, str, str] | None = None) -> list[str]:
    """The monthly job's step: compact what :func:`to_compact` names, on DuckDB or (with
    ``athena`` = (client, workgroup, database)) on Athena; the months written."""
    wanted = to_compact(window, s3_capture_months(s3, bucket, capture_prefix, window),
                        s3_partitions(s3, bucket, decisions_prefix))
    done = []
    for month in wanted:
        if athena is None:
            ok = compact_s3_duckdb(s3, bucket, capture_prefix, decisions_prefix, month)
        else:
            ok = compact_s3_athena(athena[0], s3, bucket, decisions_prefix, month,
                                   athena[1], athena[2])
        if ok:
            done.append(month)
    return done


def compact_for_run(s3: S3Client, config: OutcomesConfig, window: Window) -> list[str]:
    """The monthly job's call: :func:`compact_s3` into ``CAPTURE_BUCKET/DECISIONS_PREFIX``,
    on Athena when the job's workgroup and database are set, else on DuckDB."""
    engine = None
    if config.athena_workgroup and config.athena_database:
        import boto3

        engine = (boto3.client("athena"), config.athena_workgroup, config.athena_database)
    return compact_s3(s3, config.capture_bucket, config.capture_prefix,
                      config.decisions_prefix, window, engine)
