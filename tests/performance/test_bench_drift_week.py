"""The drift-week benchmark's indexed listing answers exactly as moto's own listing."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from benchmarks.bench_drift_week import index_listing

BUCKET = "captures"


def _listing(s3: Any, **kwargs: Any) -> list[tuple[list[str], list[str]]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, **kwargs)
    return [([o["Key"] for o in page.get("Contents", [])],
             [p["Prefix"] for p in page.get("CommonPrefixes", [])]) for page in pages]


def test_indexed_listing_returns_the_same_pages_as_the_whole_bucket_scan() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket="other")
        keys = [f"captures/dt=2026-11-2{d}/hour={h:02d}/obj-{i:03d}.gz"
                for d in range(3) for h in range(0, 24, 5) for i in range(7)]
        keys += ["captures/dt=2026-11-20/hour=05x", "errors/x.gz", "captures/dt=2026-11-21/z"]
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        s3.put_object(Bucket="other", Key="captures/dt=2026-11-20/a", Body=b"y")
        queries: list[dict[str, Any]] = [
            {"Prefix": "captures/dt=2026-11-21/hour=05/"},
            {"Prefix": "captures/dt=2026-11-21/hour=05/", "PaginationConfig": {"PageSize": 3}},
            {"Prefix": "captures/dt=2026-11-20/hour=05"},
            {"Prefix": "captures/dt=2026-11-21/", "Delimiter": "/"},
            {"Prefix": "captures/dt=2026-11-29/"},
            {},
        ]
        before = [_listing(s3, **q) for q in queries]
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        index_listing(backend, BUCKET)
        after = [_listing(s3, **q) for q in queries]
        other = s3.list_objects_v2(Bucket="other", Prefix="captures/")["Contents"]

    assert after == before
    assert [sum(len(k) for k, _ in pages) for pages in before] == [7, 7, 8, 1, 0, 108]
    assert [len(k) for k, _ in before[1]] == [3, 3, 1]
    assert before[3][0][1] == [f"captures/dt=2026-11-21/hour={h:02d}/" for h in range(0, 24, 5)]
    assert [o["Key"] for o in other] == ["captures/dt=2026-11-20/a"]
