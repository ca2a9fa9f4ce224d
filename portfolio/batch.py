"""The batch Lambda of the Step Functions book re-scoring (``Handler: portfolio.batch.handler``,
container image infra/batch.Dockerfile): the second entry point over the scoring core that
``python -m portfolio score`` runs (scoring.columns through portfolio.chunk), so a shard
scored here and the same rows scored on one machine give the same output rows.

Three actions, chosen by the state machine (infra/statemachine/score_book.asl.json):

* ``plan``: ``{"input": "s3://bucket/book/", "output": "s3://bucket/scores/<run>/"}`` ->
  the buckets and prefixes the map reads and writes (checked against BOOK_BUCKET,
  BOOK_PREFIX and SCORE_PREFIX: the only places its role may touch), reasons and the map's
  concurrency (MAX_CONCURRENCY);
* ``shard``: one shard (``bucket``, ``key``) -> ``<output_prefix><shard>.parquet``, its
  rejects (``.rejects.jsonl``, only when there are any) and counts (``.stats.json``,
  written last). Idempotent: a retried child overwrites the same keys. A bad row is a
  reject; a shard that cannot be read fails the child, naming the shard;
* ``summarize``: every shard's counts under the output prefix -> ``summary.json`` and the
  ``_SUCCESS`` manifest; a shard of the input prefix without counts fails the run, named
  (the map already fails on a failed child: ToleratedFailurePercentage 0).

The bundle comes from MODEL_S3_URI or MODEL_DIR, as the scoring function's does.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

# One shard at a time per execution environment: no BLAS threads (TreeSHAP's products).
# OpenBLAS sizes its pool when numpy loads, so this comes first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pyarrow.parquet as pq

from contract.logs import emit, get_logger, quiet_aws_sdk_loggers, start_invocation
from portfolio.chunk import ChunkStats, output_schema, score_chunk
from portfolio.read import DEFAULT_CHUNK_ROWS, BookError, open_book, s3_client, split_s3
from scoring.config import MAX_REASONS, load_settings
from scoring.model import Bundle, download_bundle, load_bundle

STATS_SUFFIX = ".stats.json"
DEFAULT_MAX_CONCURRENCY = 100
_STATE: dict[str, Bundle] = {}


class ShardError(Exception):
    """A shard (or a plan) the batch function refuses; the message names it."""


def _bundle() -> Bundle:
    if "bundle" not in _STATE:
        settings = load_settings()
        directory = download_bundle(settings.model_s3_uri) if settings.model_s3_uri \
            else settings.model_dir
        _STATE["bundle"] = load_bundle(directory)
    return _STATE["bundle"]


def _prefix(uri: str, allowed_bucket: str | None, allowed_prefix: str, what: str
            ) -> tuple[str, str]:
    try:
        bucket, prefix = split_s3(uri)
    except BookError as exc:
        raise ShardError(f"{what}: {exc}") from None
    prefix = prefix if prefix.endswith("/") or not prefix else prefix + "/"
    if allowed_bucket and bucket != allowed_bucket:
        raise ShardError(f"{what} {uri} is not in the bucket {allowed_bucket}")
    if not prefix.startswith(allowed_prefix):
        raise ShardError(f"{what} {uri} is not under s3://{bucket}/{allowed_prefix}")
    return bucket, prefix


def plan(event: dict[str, Any]) -> dict[str, Any]:
    """The map's inputs from the run's ``input`` and ``output`` prefixes (the execution
    input, under ``run``)."""
    event = event.get("run", event)
    bucket = os.environ.get("BOOK_BUCKET") or None
    book_prefix = os.environ.get("BOOK_PREFIX", "")
    score_prefix = os.environ.get("SCORE_PREFIX", "")
    if "input" not in event or "output" not in event:
        raise ShardError('the run needs {"input": "s3://.../book/", "output": '
                         '"s3://.../scores/<run>/"}')
    in_bucket, in_prefix = _prefix(str(event["input"]), bucket, book_prefix, "input")
    out_bucket, out_prefix = _prefix(str(event["output"]), bucket, score_prefix, "output")
    reasons = int(event.get("reasons", 0))
    if not 0 <= reasons <= MAX_REASONS:
        raise ShardError(f"reasons must be between 0 and {MAX_REASONS}")
    concurrency = int(os.environ.get("MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY))
    return {"input": str(event["input"]), "bucket": in_bucket, "prefix": in_prefix,
            "output_bucket": out_bucket, "output_prefix": out_prefix, "reasons": reasons,
            "max_concurrency": concurrency}


def shard_stem(key: str) -> str:
    """``book/shard-00003.csv.gz`` -> ``shard-00003``."""
    name = key.rsplit("/", 1)[-1]
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def score_shard(event: dict[str, Any]) -> dict[str, Any]:
    """Score one shard into the output prefix; returns its counts."""
    bucket, key = str(event["bucket"]), str(event["key"])
    out_bucket, out_prefix = str(event["output_bucket"]), str(event["output_prefix"])
    reasons = int(event.get("reasons", 0))
    uri = f"s3://{bucket}/{key}"
    bundle = _bundle()
    client = s3_client()
    stem = shard_stem(key)
    scratch = Path(tempfile.mkdtemp(prefix="shard-"))
    try:
        try:
            book = open_book(uri, scratch)
        except BookError as exc:
            raise ShardError(f"shard {exc}") from None
        stats = ChunkStats()
        rejects: list[dict[str, Any]] = []
        data = scratch / f"{stem}.parquet"
        first = 0
        try:
            with pq.ParquetWriter(data, output_schema(reasons)) as writer:
                for table in book.chunks(DEFAULT_CHUNK_ROWS):
                    result = score_chunk(bundle, table, reasons, first, book.format == "csv")
                    writer.write_table(result.table)
                    rejects += result.rejects
                    stats.add(result.stats)
                    first += table.num_rows
        except BookError as exc:
            raise ShardError(f"shard {exc}") from None
        client.upload_file(str(data), out_bucket, f"{out_prefix}{stem}.parquet")
        rejects_key = f"{out_prefix}{stem}.rejects.jsonl"
        if rejects:
            body = "".join(json.dumps({**r, "shard": key}) + "\n" for r in rejects)
            client.put_object(Bucket=out_bucket, Key=rejects_key, Body=body.encode())
        else:
            client.delete_object(Bucket=out_bucket, Key=rejects_key)
        counts = {"shard": key, **stats.to_dict()}
        client.put_object(Bucket=out_bucket, Key=f"{out_prefix}{stem}{STATS_SUFFIX}",
                          Body=json.dumps(counts).encode())
        return {k: counts[k] for k in ("shard", "rows", "scored", "rejected", "declines")}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def summarize(event: dict[str, Any]) -> dict[str, Any]:
    """summary.json and _SUCCESS over every shard's counts under the output prefix."""
    out_bucket, out_prefix = str(event["output_bucket"]), str(event["output_prefix"])
    client = s3_client()
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=out_bucket,
                                                                  Prefix=out_prefix):
        keys += [o["Key"] for o in page.get("Contents", [])
                 if o["Key"].endswith(STATS_SUFFIX) and "/" not in o["Key"][len(out_prefix):]]
    missing = _unscored(client, event, {k[len(out_prefix):-len(STATS_SUFFIX)] for k in keys})
    if missing:
        raise ShardError(f"{len(missing)} shard(s) not scored: {', '.join(missing[:20])} "
                         "(their child executions in the map run say why)")
    totals = ChunkStats()
    parts = []
    for key in sorted(keys):
        counts = json.loads(client.get_object(Bucket=out_bucket, Key=key)["Body"].read())
        totals.add(ChunkStats.from_dict(counts))
        stem = key[len(out_prefix):-len(STATS_SUFFIX)]
        parts.append({"file": f"{stem}.parquet", "shard": counts["shard"],
                      "rows": counts["rows"], "scored": counts["scored"],
                      "rejected": counts["rejected"]})
    bundle = _bundle()
    summary = {
        "input": event.get("input"), "output": f"s3://{out_bucket}/{out_prefix}",
        "model_version": bundle.version, "threshold": bundle.threshold,
        "reasons": event.get("reasons", 0), "shards": len(parts),
        "rows_read": totals.rows, "rows_scored": totals.scored,
        "rows_rejected": totals.rejected, "declines": totals.declines,
        "decline_rate": totals.declines / totals.scored if totals.scored else None,
        "decline_rate_by_group": {a: {g: (d / n if n else None) for g, (n, d) in gs.items()}
                                  for a, gs in totals.groups.items()},
        "applicants_by_group": {a: {g: c[0] for g, c in gs.items()}
                                for a, gs in totals.groups.items()},
        "summarized_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    client.put_object(Bucket=out_bucket, Key=f"{out_prefix}summary.json",
                      Body=json.dumps(summary, indent=2).encode())
    client.put_object(Bucket=out_bucket, Key=f"{out_prefix}_SUCCESS",
                      Body=json.dumps({"parts": parts, "summary": "summary.json"}).encode())
    return {k: summary[k] for k in ("shards", "rows_read", "rows_scored", "rows_rejected",
                                    "declines")}


def _unscored(client: Any, event: dict[str, Any], scored: set[str]) -> list[str]:
    """Shards under the input prefix without counts in the output (a failed child)."""
    if "bucket" not in event:
        return []
    bucket, prefix = str(event["bucket"]), str(event["prefix"])
    missing = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        missing += [o["Key"] for o in page.get("Contents", [])
                    if shard_stem(o["Key"]) not in scored]
    return sorted(missing)


ACTIONS = {"plan": plan, "shard": score_shard, "summarize": summarize}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry: ``event["action"]`` is plan, shard or summarize. One JSON log line per
    invocation (contract.logs): the action, its counts or its error, never row values."""
    start_invocation(context)
    quiet_aws_sdk_loggers()
    log = get_logger("portfolio.batch")
    name = str(event.get("action"))
    action = ACTIONS.get(name)
    started = time.perf_counter()
    try:
        if action is None:
            raise ShardError(f"unknown action {event.get('action')!r} (plan, shard, summarize)")
        result = action(event)
    except Exception as exc:
        emit(log, "batch_failed", logging.ERROR, action=name, shard=event.get("key"),
             error=type(exc).__name__, reason=str(exc)[:300])
        raise
    counts: dict[str, Any] = {k: v for k, v in result.items()
                              if isinstance(v, int | str) and k != "input"}
    emit(log, f"batch_{name}", duration_ms=round((time.perf_counter() - started) * 1e3, 1),
         **counts)
    return result
