"""Firehose for tests: moto's delivery stream behind a wrapper that enforces Firehose's limits.

moto accepts any PutRecordBatch; the real service rejects a call with more than 500 records or
more than 4 MiB of data, or any record over 1,000 KiB. ``LimitedFirehose`` fails such a call
the way the service would (InvalidArgumentException), so a producer that breaks a limit fails
its test. moto writes each accepted call straight to S3 (one object per call, no buffering,
no compression, no ``!{timestamp}`` expansion): ``delivered_records`` reads them back.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import ClientError

MAX_CALL_RECORDS = 500
MAX_CALL_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1_000 * 1024
STREAM = "captures-test"
BUCKET = "captures-test-bucket"
RAW_PREFIX = "firehose/"


def limit_violation(records: list[dict[str, Any]]) -> str | None:
    """Why Firehose would reject this PutRecordBatch, or None."""
    if not 1 <= len(records) <= MAX_CALL_RECORDS:
        return f"{len(records)} records (1 to {MAX_CALL_RECORDS} allowed)"
    sizes = [len(r["Data"]) for r in records]
    if max(sizes) > MAX_RECORD_BYTES:
        return f"a record of {max(sizes)} bytes (at most {MAX_RECORD_BYTES})"
    if sum(sizes) > MAX_CALL_BYTES:
        return f"{sum(sizes)} bytes in one call (at most {MAX_CALL_BYTES})"
    return None


class LimitedFirehose:
    """A Firehose client (moto's) that enforces the service's PutRecordBatch limits and
    remembers every call (thread, record count, bytes)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, Any]]
                         ) -> dict[str, Any]:
        violation = limit_violation(Records)
        with self._lock:
            self.calls.append({"thread": threading.current_thread().name,
                               "records": len(Records),
                               "bytes": sum(len(r["Data"]) for r in Records),
                               "violation": violation})
        if violation is not None:
            raise ClientError({"Error": {"Code": "InvalidArgumentException",
                                         "Message": violation}}, "PutRecordBatch")
        return self.client.put_record_batch(DeliveryStreamName=DeliveryStreamName,
                                             Records=Records)


def create_stream(session_client: Any, s3: Any, stream: str = STREAM, bucket: str = BUCKET,
                  prefix: str = RAW_PREFIX) -> None:
    """A bucket and a DirectPut delivery stream writing to it (moto)."""
    s3.create_bucket(Bucket=bucket)
    session_client.create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": prefix,
            "CompressionFormat": "UNCOMPRESSED",
        },
    )


def delivered_records(s3: Any, bucket: str = BUCKET, prefix: str = "") -> list[dict[str, Any]]:
    """Every capture record in the bucket (decoded, in key order)."""
    from contract.capture_format import decode_capture

    records: list[dict[str, Any]] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            records.extend(decode_capture(body))
    return records


def delivered_lines(s3: Any, bucket: str = BUCKET) -> list[bytes]:
    """Every line delivered to the bucket, whatever it holds."""
    lines: list[bytes] = []
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        lines.extend(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().splitlines())
    return lines
