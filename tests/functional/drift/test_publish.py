"""drift.publish, the S3 and metric plumbing of both scheduled jobs, on moto S3: publishing is
all or nothing (a failure removes what the call wrote and puts latest.json back), a missing
object reads as None, listing follows pagination, EMF records have CloudWatch's shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from drift.publish import HTML, JSON, dumps, emf_line, list_keys, publish, read_optional

BUCKET = "reports"


@pytest.fixture
def s3(moto_s3: Any) -> Any:
    moto_s3.create_bucket(Bucket=BUCKET)
    return moto_s3


def _stored(s3: Any) -> dict[str, bytes]:
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            for key in list_keys(s3, BUCKET, "")}


def test_publish_writes_in_order_latest_last_and_removes_stale_keys(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="r/old/report.html", Body=b"old")
    written: list[str] = []
    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_: written.append(params["Key"]))
    keys = publish(s3, BUCKET, [("r/1/report.html", b"<p>1</p>", HTML),
                                ("r/1/summary.json", dumps({"a": 1}), JSON)],
                   stale=["r/old/report.html"], latest=("r/latest.json", b"{}"))
    assert keys == written == ["r/1/report.html", "r/1/summary.json", "r/latest.json"]
    assert _stored(s3) == {"r/1/report.html": b"<p>1</p>", "r/1/summary.json": b'{\n  "a": 1\n}\n',
                           "r/latest.json": b"{}"}
    assert s3.head_object(Bucket=BUCKET, Key="r/1/report.html")["ContentType"] == HTML


@pytest.mark.parametrize("previous", [b'{"previous": true}', None])
def test_a_failed_put_leaves_nothing_new_and_puts_latest_back(s3: Any,
                                                               previous: bytes | None) -> None:
    if previous is not None:
        s3.put_object(Bucket=BUCKET, Key="r/latest.json", Body=previous)

    keys: list[str] = []

    def fail_after_latest_landed(**_: Any) -> None:
        # As when a put times out after S3 stored it: the new latest.json is there.
        if keys[-1] == "r/latest.json" and len(keys) == 2:
            raise ConnectionError("the network went away")

    s3.meta.events.register("before-parameter-build.s3.PutObject",
                            lambda params, **_: keys.append(params["Key"]))
    s3.meta.events.register("after-call.s3.PutObject", fail_after_latest_landed)
    with pytest.raises(ConnectionError):
        publish(s3, BUCKET, [("r/2/summary.json", b"{}", JSON)], stale=[],
                latest=("r/latest.json", b'{"new": true}'), previous_latest=previous)
    # The summary written first is gone; latest.json is what it was (or absent).
    assert _stored(s3) == ({} if previous is None else {"r/latest.json": previous})


def test_read_optional_and_list_keys(s3: Any) -> None:
    assert read_optional(s3, BUCKET, "nothing/here.json") is None
    s3.put_object(Bucket=BUCKET, Key="a/here.json", Body=b"x")
    assert read_optional(s3, BUCKET, "a/here.json") == b"x"
    with pytest.raises(ClientError, match="NoSuchBucket"):
        read_optional(s3, "no-such-bucket", "a/here.json")
    for i in range(1_001):  # one more than a page of list_objects_v2
        s3.put_object(Bucket=BUCKET, Key=f"p/{i:04d}", Body=b"")
    keys = list(list_keys(s3, BUCKET, "p/"))
    assert keys == [f"p/{i:04d}" for i in range(1_001)]


def test_emf_line_has_cloudwatchs_shape() -> None:
    stamp = datetime(2026, 7, 1, 6, tzinfo=UTC)
    line = json.loads(emf_line("NS", ["Model", "ModelVersion"], {"AUC": "None", "N": "Count"},
                               {"Model": "m", "ModelVersion": "7", "AUC": 0.7, "N": 3,
                                "Cohort": "2025-03"}, stamp))
    assert line == {
        "_aws": {"Timestamp": int(stamp.timestamp() * 1000), "CloudWatchMetrics": [{
            "Namespace": "NS", "Dimensions": [["Model", "ModelVersion"]],
            "Metrics": [{"Name": "AUC", "Unit": "None"}, {"Name": "N", "Unit": "Count"}]}]},
        "Model": "m", "ModelVersion": "7", "AUC": 0.7, "N": 3, "Cohort": "2025-03"}
