"""S3 and metric plumbing shared by the monitor's scheduled jobs (weekly drift, monthly
outcomes): the S3 client, optional reads, all-or-nothing publishing, CloudWatch Embedded
Metric Format lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contract.logs import get_logger
from drift.captures import DEFAULT_WORKERS

if TYPE_CHECKING:
    from contract.aws import S3Client

#: The monitor's JSON logger (contract.logs); the drift modules' loggers are its children.
log = get_logger("drift")

#: Attempts per S3 call (the first included), botocore "standard" mode: throttling, 5xx and
#: connection errors are retried with exponential backoff.
S3_MAX_ATTEMPTS = 5
#: Error codes of a missing object. Without s3:ListBucket on the prefix, S3 answers a missing
#: key with 403, not 404.
MISSING = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})

#: One object to publish: (key, body, content type).
File = tuple[str, bytes, str]
JSON = "application/json"
HTML = "text/html; charset=utf-8"


def s3_client(
    max_pool_connections: int = DEFAULT_WORKERS + 2, max_attempts: int = S3_MAX_ATTEMPTS
) -> S3Client:
    """The job's S3 client: botocore "standard" retries (throttling, 5xx, connection errors)."""
    import boto3
    from botocore.config import Config as BotoConfig

    client: S3Client = boto3.client(
        "s3",
        config=BotoConfig(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            connect_timeout=10,
            read_timeout=60,
        ),
    )
    return client


def read_optional(s3: S3Client, bucket: str, key: str) -> bytes | None:
    """The object's body, or None if it does not exist (or is not readable as such)."""
    from botocore.exceptions import ClientError

    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING:
            return None
        raise


def list_keys(s3: S3Client, bucket: str, prefix: str) -> Iterator[str]:
    """Every key under ``prefix``."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def dumps(data: Any) -> bytes:
    """A JSON object's body: indented, strict (NaN is an error), newline-terminated."""
    return (json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")


def publish(
    s3: S3Client,
    bucket: str,
    files: list[File],
    *,
    stale: list[str],
    latest: tuple[str, bytes] | None,
    previous_latest: bytes | None = None,
) -> list[str]:
    """Delete ``stale`` keys, write ``files`` in order, then ``latest`` last; all or nothing.

    On any failure, every key this call tried to write is removed (a failed put may still have
    landed), latest.json is put back to ``previous_latest`` (or removed if there was none),
    and the error is re-raised. Returns the keys written.
    """
    attempted: list[str] = []
    latest_attempted = False
    try:
        if stale:
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale], "Quiet": True}
            )
        for key, body, content_type in files:
            attempted.append(key)
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        if latest is not None:
            latest_attempted = True
            s3.put_object(Bucket=bucket, Key=latest[0], Body=latest[1], ContentType=JSON)
    except Exception:
        log.error("publishing failed; removing the %d object(s) this run wrote", len(attempted))
        for key in attempted:
            _best_effort(s3.delete_object, Bucket=bucket, Key=key)
        if latest is not None and latest_attempted:
            _restore_latest(s3, bucket, latest[0], previous_latest)
        raise
    return attempted + ([latest[0]] if latest is not None else [])


def _restore_latest(s3: S3Client, bucket: str, key: str, previous: bytes | None) -> None:
    if previous is None:
        _best_effort(s3.delete_object, Bucket=bucket, Key=key)
    else:
        _best_effort(s3.put_object, Bucket=bucket, Key=key, Body=previous, ContentType=JSON)


def _best_effort(call: Callable[..., object], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except Exception:  # keep cleaning up as much as possible; the caller re-raises
        log.exception("cleanup of %s failed", kwargs.get("Key"))


def emf_line(
    namespace: str,
    dimensions: list[str],
    metrics: Mapping[str, str],
    fields: Mapping[str, Any],
    stamp: datetime | None = None,
) -> str:
    """One CloudWatch Embedded Metric Format record (one JSON line): the ``metrics`` (name ->
    unit) under ``dimensions``; ``fields`` holds their values, the dimensions' values and any
    other property to log with them."""
    millis = int((stamp or datetime.now(UTC)).timestamp() * 1000)
    return json.dumps(
        {
            "_aws": {
                "Timestamp": millis,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [dimensions],
                        "Metrics": [{"Name": n, "Unit": u} for n, u in metrics.items()],
                    }
                ],
            },
            **fields,
        },
        separators=(",", ":"),
    )
