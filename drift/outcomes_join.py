"""Run the outcomes join (drift/sql/outcomes_join.sql) with DuckDB on local files.

The captures are Firehose's gzip JSON Lines objects (``<root>/dt=*/hour=*/*.gz``,
contract.capture_format), the outcomes the loader's objects (``<root>/dt=*/*.jsonl.gz``,
contract.outcome_format). Objects in S3 are downloaded first (:func:`download_prefix`):
DuckDB's json reader is built in, its httpfs extension is not, and nothing downloads an
extension at run time. The views give the columns their types explicitly, so a field a
record lacks (hash_key_id in older captures) reads as NULL, and an empty layout gives an
empty view rather than an error.

Only the join's result comes back to Python: one row per loan (matched or not), the
applicant's fields as JSON text (:func:`features`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
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


@cache
def features_type() -> str:
    """The features struct: the 120 applicant fields, numbers DOUBLE, categories VARCHAR."""
    fields = ", ".join(f'"{f.name}" {"VARCHAR" if f.kind == "category" else "DOUBLE"}'
                       for f in FEATURE_FIELDS)
    return f"STRUCT({fields})"


def join_sql() -> str:
    """The join's one SQL text (the same text Athena runs)."""
    return JOIN_SQL.read_text(encoding="utf-8")


def counts_sql() -> str:
    return COUNTS_SQL.read_text(encoding="utf-8")


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


def capture_files(root: Path) -> list[str]:
    """The capture objects under a local copy of the capture prefix (at any depth below
    the hour, as a delivery stream without a timestamp expression adds YYYY/MM/DD/HH/)."""
    return _files(root, ("dt=*/hour=*/**/*", "captures/dt=*/hour=*/**/*"))


def outcome_files(root: Path) -> list[str]:
    """The outcome objects under a local copy of the outcome layout."""
    return _files(root, ("dt=*/**/*.jsonl.gz", "outcomes/dt=*/**/*.jsonl.gz"))


def _columns(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"


def _view(con: duckdb.DuckDBPyConnection, name: str, files: list[str],
          columns: dict[str, str]) -> None:
    if not files:
        typed = ", ".join(f'CAST(NULL AS {v}) AS "{k}"' for k, v in columns.items())
        con.execute(f"CREATE VIEW {name} AS SELECT {typed} WHERE false")
        return
    listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    con.execute(
        f"CREATE VIEW {name} AS SELECT * FROM read_json({listed}, "
        f"format='newline_delimited', compression='auto_detect', columns={_columns(columns)})")


def connect(capture_paths: list[str], outcome_paths: list[str],
            threads: int | None = None, memory_limit: str | None = None,
            spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``captures`` and ``outcomes`` views over the files; with
    ``spill`` (a directory) ``captures`` is a table instead, parsed once and spilled there
    beyond ``memory_limit``."""
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
    return con


def run_join(captures: Path, outcomes: Path, threads: int | None = None,
             memory_limit: str = MEMORY_LIMIT) -> JoinResult:
    """The join and the cohort counts over local copies of the two layouts. The captures
    are parsed once into a table (the join reads them twice, the counts once): JSON parsing
    is most of the work."""
    with tempfile.TemporaryDirectory(prefix="duckdb-spill-") as spill:
        con = connect(capture_files(captures), outcome_files(outcomes), threads,
                      memory_limit, Path(spill))
        try:
            # The applicant fields come back as JSON text (decoded where used): a dict of
            # 120 fields per loan would be most of the process's memory.
            loans = con.execute("SELECT * REPLACE (to_json(features)::VARCHAR AS features) "
                                f"FROM ({join_sql()})").df()
            counts = con.execute(counts_sql()).df()
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
