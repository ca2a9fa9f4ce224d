"""Cutting a book into shards for the Step Functions Distributed Map: ``shard-00000.<ext>``,
... of ``shard_rows`` rows each, in the book's own format (a CSV's cells stay text, a
Parquet file keeps its column types), under a local directory or an ``s3://`` prefix.

Only the schema fields are kept. Scoring the shards one by one gives the rows scoring the
whole book gives, in the same order (shard i holds rows i*shard_rows onwards).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from portfolio.read import open_book, s3_client, split_s3


def shard_name(index: int, fmt: str) -> str:
    return f"shard-{index:05d}.{'csv' if fmt == 'csv' else 'parquet'}"


def split_book(source: str, target: str, shard_rows: int) -> list[str]:
    """Write the shards; returns their addresses (paths or s3:// URIs), in order."""
    if shard_rows < 1:
        raise ValueError("--shard-rows must be at least 1")
    with tempfile.TemporaryDirectory(prefix="split-") as scratch:
        book = open_book(source, Path(scratch))
        remote = target.startswith("s3://")
        directory = Path(scratch) / "shards" if remote else Path(target)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for index, table in enumerate(book.chunks(shard_rows)):
            path = directory / shard_name(index, book.format)
            if book.format == "csv":
                pa_csv.write_csv(table, path)
            else:
                pq.write_table(table, path)
            if remote:
                bucket, prefix = split_s3(target)
                key = f"{prefix.rstrip('/')}/{path.name}" if prefix.strip("/") else path.name
                s3_client().upload_file(str(path), bucket, key)
                path.unlink()
                written.append(f"s3://{bucket}/{key}")
            else:
                written.append(str(path))
        return written
