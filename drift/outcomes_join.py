"""Run the outcomes join (drift/sql/outcomes_join.sql) with DuckDB on local files.

The captures are Firehose's gzip JSON Lines objects (``<root>/dt=*/hour=*/*.gz``,
contract.capture_format), the outcomes the loader's objects (``<root>/dt=*/*.jsonl.gz``,
contract.outcome_format). Objects in S3 are downloaded first (:func:`download_prefix`):
DuckDB's json reader is built in, its httpfs extension is not, and nothing downloads an
extension at run time. The views give the columns their types explicitly, so a field a
record lacks (hash_key_id in older captures) reads as NULL, and an empty layout gives an
empty view rather than an error. Each view has its partition key as Athena's tables do
(``dt`` of captures and outcomes, ``month`` of the decisions table, drift.compaction), read
from the object's path.

The join reads a :class:`Window`: the compacted months from the decisions table, the
months not compacted yet from the captures, outcomes observed since the window's first day.
The SQL bounds it by partition (what Athena scans); the files handed to DuckDB are
pre-selected by the same bounds (what it parses).

Only the join's result comes back to Python: one row per loan (matched or not), the
applicant's fields as JSON text (:func:`features`).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

import pandas as pd

from contract.schema import FEATURE_FIELDS

if TYPE_CHECKING:
    import duckdb

    from contract.aws import S3Client

SQL_DIR = Path(__file__).resolve().parent / "sql"
#: DuckDB's memory budget for the join; beyond it the parsed captures spill to disk.
MEMORY_LIMIT = "1GB"
JOIN_SQL = SQL_DIR / "outcomes_join.sql"
COUNTS_SQL = SQL_DIR / "capture_counts.sql"
RECORDS_SQL = SQL_DIR / "decision_records.sql"

CAPTURE_COLUMNS: dict[str, str] = {
    "captured_at": "VARCHAR", "request_id": "VARCHAR", "model_version": "VARCHAR",
    "client_id_hash": "VARCHAR", "hash_key_id": "VARCHAR", "probability": "DOUBLE",
    "decision": "VARCHAR",
}
OUTCOME_COLUMNS: dict[str, str] = {
    "loan_id": "VARCHAR", "request_id": "VARCHAR", "client_id_hash": "VARCHAR",
    "hash_key_id": "VARCHAR", "outcome": "INTEGER", "observed_at": "VARCHAR",
    "decided_at": "VARCHAR",
}


#: The partition keys in object paths: captures and outcomes by day, decisions by month.
DAY = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)")
MONTH = re.compile(r"(?:^|/)month=(\d{4}-\d{2})(?:/|$)")


def day_before(day: str) -> str:
    """The ISO date before ``day`` (``0000-01-01`` stays: the unbounded window's start)."""
    if day <= "0001-01-01":
        return day
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Window:
    """What the join reads: decision months ``first_month`` <= m < ``open_month`` from the
    decisions table, captures from the day before ``open_month`` to ``last_day`` (those
    captured in ``open_month`` or later), outcomes observed since ``first_month``'s first
    day (YYYY-MM / YYYY-MM-DD text)."""

    first_month: str
    open_month: str
    last_day: str

    @classmethod
    def everything(cls) -> Window:
        """Every capture and outcome, no decisions table (the join before compaction)."""
        return cls("0000-01", "0000-01", "9999-12-31")

    @classmethod
    def for_run(cls, as_of: date, lookback_months: int) -> Window:
        """A run on ``as_of``: the ``lookback_months`` before as_of's month from the
        decisions table (they are compacted by then), as_of's month from the captures."""
        from drift.cohorts import add_months

        first = add_months(as_of.replace(day=1), -lookback_months)
        return cls(f"{first:%Y-%m}", f"{as_of:%Y-%m}", as_of.isoformat())

    @property
    def captures_from(self) -> str:
        """The first capture dt read: the day before the open month (a capture's dt can be
        the day before its captured_at, drift/sql/decision_records.sql)."""
        return day_before(f"{self.open_month}-01")

    def params(self) -> dict[str, str]:
        """The SQL texts' placeholders."""
        return {"first_month": self.first_month, "first_day": f"{self.first_month}-01",
                "open_month": self.open_month, "captures_from": self.captures_from,
                "last_day": self.last_day}

    def keeps_capture(self, path: str) -> bool:
        day = DAY.search(path)
        return day is not None and self.captures_from <= day[1] <= self.last_day

    def keeps_decisions(self, path: str) -> bool:
        month = MONTH.search(path)
        return month is not None and self.first_month <= month[1] < self.open_month

    def keeps_outcome(self, path: str) -> bool:
        day = DAY.search(path)
        return day is not None and day[1] >= f"{self.first_month}-01"


@cache
def features_type() -> str:
    """The features struct: the 120 applicant fields, numbers DOUBLE, categories VARCHAR."""
    fields = ", ".join(f'"{f.name}" {"VARCHAR" if f.kind == "category" else "DOUBLE"}'
                       for f in FEATURE_FIELDS)
    return f"STRUCT({fields})"


def _render(path: Path, window: Window | None) -> str:
    params = (window or Window.everything()).params()
    records = Template(RECORDS_SQL.read_text(encoding="utf-8")).substitute(params)
    return Template(path.read_text(encoding="utf-8")).substitute(
        params, decision_records=records.strip())


def join_sql(window: Window | None = None) -> str:
    """The join's one SQL text (the same text Athena runs), bounded by ``window`` (default:
    everything)."""
    return _render(JOIN_SQL, window)


def counts_sql(window: Window | None = None) -> str:
    """Scored and approved per cohort and model version, over the same records."""
    return _render(COUNTS_SQL, window)


@dataclass(frozen=True)
class JoinResult:
    """The join's rows (one per loan) and the captures' counts per cohort and version."""

    loans: pd.DataFrame
    counts: pd.DataFrame


def _files(root: Path, patterns: Iterable[str]) -> list[str]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(str(p) for p in found)


def _relative(root: Path, files: list[str]) -> Iterable[tuple[str, str]]:
    return ((f, Path(f).relative_to(root).as_posix()) for f in files)


def capture_files(root: Path, window: Window | None = None) -> list[str]:
    """The capture objects under a local copy of the capture prefix (at any depth below
    the hour, as a delivery stream without a timestamp expression adds YYYY/MM/DD/HH/),
    those ``window`` reads if given."""
    files = _files(root, ("dt=*/hour=*/**/*", "captures/dt=*/hour=*/**/*"))
    return files if window is None else [
        f for f, rel in _relative(root, files) if window.keeps_capture(rel)]


def outcome_files(root: Path, window: Window | None = None) -> list[str]:
    """The outcome objects under a local copy of the outcome layout."""
    files = _files(root, ("dt=*/**/*.jsonl.gz", "outcomes/dt=*/**/*.jsonl.gz"))
    return files if window is None else [
        f for f, rel in _relative(root, files) if window.keeps_outcome(rel)]


def decision_files(root: Path | None, window: Window | None = None) -> list[str]:
    """The decisions table's Parquet files under a local copy (``month=YYYY-MM/*.parquet``)."""
    if root is None:
        return []
    files = _files(root, ("month=*/*.parquet", "decisions/month=*/*.parquet"))
    return files if window is None else [
        f for f, rel in _relative(root, files) if window.keeps_decisions(rel)]


def _columns(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[str],
          columns: dict[str, str], key: str = "dt", parquet: bool = False) -> None:
    """A typed view over JSON Lines (or Parquet) files, with the partition ``key`` (``dt``
    or ``month``) read from each file's path."""
    if not files:
        typed = ", ".join(f'CAST(NULL AS {v}) AS "{k}"' for k, v in columns.items())
        con.execute(f"CREATE VIEW {name} AS SELECT {typed}, CAST(NULL AS VARCHAR) AS {key} "
                    "WHERE false")
        return
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    pattern = (DAY if key == "dt" else MONTH).pattern.replace("\\d", "[0-9]")
    selected = ", ".join(f'CAST("{k}" AS {v}) AS "{k}"' for k, v in columns.items())
    source = (f"read_parquet({listed}, filename=true, hive_partitioning=false)" if parquet else
              f"read_json({listed}, format='newline_delimited', compression='auto_detect', "
              f"columns={_columns(columns)}, filename=true)")
    con.execute(f"CREATE VIEW {name} AS SELECT {selected}, "
                f"regexp_extract(filename, '{pattern}', 1) AS {key} FROM {source}")


def connect(capture_paths: list[str], outcome_paths: list[str],
            threads: int | None = None, memory_limit: str | None = None,
            spill: Path | None = None, decision_paths: list[str] | None = None
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``captures``, ``outcomes`` and ``decisions`` views over the
    files; with ``spill`` (a directory) ``captures`` is a table instead, parsed once and
    spilled there beyond ``memory_limit``."""
    import duckdb

    config: dict[str, Any] = {"autoinstall_known_extensions": False,
                              "autoload_known_extensions": False}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    if spill is not None:
        config["temp_directory"] = str(spill)
    con = duckdb.connect(":memory:", config=config)
    columns = {**CAPTURE_COLUMNS, "features": features_type()}
    if spill is None:
        _view(con, "captures", capture_paths, columns)
    else:
        _view(con, "capture_files", capture_paths, columns)
        con.execute("CREATE TEMP TABLE captures AS SELECT * FROM capture_files")
    _view(con, "outcomes", outcome_paths, OUTCOME_COLUMNS)
    _view(con, "decisions", decision_paths or [], columns, key="month", parquet=True)
    return con


def run_join(captures: Path, outcomes: Path, threads: int | None = None,
             memory_limit: str = MEMORY_LIMIT, decisions: Path | None = None,
             window: Window | None = None) -> JoinResult:
    """The join and the cohort counts over local copies of the layouts (and of the
    decisions table, if any), bounded by ``window`` (default: everything). The captures
    are parsed once into a table (the join reads them twice, the counts once): JSON parsing
    is most of the work."""
    with tempfile.TemporaryDirectory(prefix="duckdb-spill-") as spill:
        con = connect(capture_files(captures, window), outcome_files(outcomes, window),
                      threads, memory_limit, Path(spill), decision_files(decisions, window))
        try:
            # The applicant fields come back as JSON text (decoded where used): a dict of
            # 120 fields per loan would be most of the process's memory.
            loans = con.execute("SELECT * REPLACE (to_json(features)::VARCHAR AS features) "
                                f"FROM ({join_sql(window)})").df()
            counts = con.execute(counts_sql(window)).df()
        finally:
            con.close()
    return JoinResult(loans=loans, counts=counts)


def fetch_object(s3: S3Client, bucket: str, key: str, local: Path) -> None:
    """One object to a local file, streamed with GetObject (not the transfer manager, whose
    process-wide state outlives the client)."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with open(local, "wb") as out:
        for chunk in iter(lambda: body.read(1024 * 1024), b""):
            out.write(chunk)


def download_prefix(s3: S3Client, uri: str, target: Path, workers: int = 8,
                    keep: Callable[[str], bool] | None = None) -> int:
    """Copy the objects under ``s3://bucket/prefix`` into ``target`` (same relative keys),
    those whose relative key ``keep`` accepts if given; returns how many."""
    from drift.outcomes_load import split_s3

    bucket, prefix = split_s3(uri)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", [])
                    if keep is None or keep(o["Key"][len(prefix):].lstrip("/")))

    def fetch(key: str) -> None:
        local = target / key[len(prefix):].lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        fetch_object(s3, bucket, key, local)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fetch, keys))
    return len(keys)


_NAMES = {f.name.lower(): f.name for f in FEATURE_FIELDS}


def features(loans: pd.DataFrame) -> list[dict[str, Any]]:
    """The applicant fields of the join's rows, decoded (Athena's lower-case struct field
    names mapped back to the schema's)."""
    return [{_NAMES.get(k.lower(), k): v for k, v in json.loads(text).items()}
            for text in loans["features"]]
