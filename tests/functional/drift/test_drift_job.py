"""drift.drift_job.run under S3 faults, on moto S3 with the job's own client: faults are
injected at the AWS client boundary (a botocore ``before-send`` hook answering with an HTTP
error), so botocore's real retry logic and the job's real cleanup both run. The run end to
end through the Lambda entry point: test_handler.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from drift import drift_job, publish
from drift.config import DriftConfig
from infra.synthetic_traffic import applications, put_captures
from tests.functional.drift.test_handler import (
    BUCKET,
    PREFIX,
    WINDOW_DAYS,
    at,
    objects,
    scheduled_event,
)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def inject(
    client: Any, operation: str, key_matches: Callable[[str], bool], status: int, failures: int
) -> list[str]:
    """Answer the first ``failures`` matching requests with an HTTP error; returns the log."""
    seen: list[str] = []
    code = {500: "InternalError", 503: "SlowDown", 403: "AccessDenied"}[status]

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        path = request.url.split("?")[0]
        if not key_matches(path):
            return None
        seen.append(path)
        if len(seen) > failures:
            return None
        body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
        return AWSResponse(request.url, status, {}, _Raw(body))

    client.meta.events.register_first(f"before-send.s3.{operation}", hook)
    return seen


@pytest.mark.slow
def test_failed_upload_leaves_no_partial_report_and_raises(world: Any) -> None:
    for day in WINDOW_DAYS[:3]:
        put_captures(world, BUCKET, applications(100, seed=day.day), at(day))
    older = json.dumps({"status": "ok", "window": {"end": "2026-11-20"}}).encode()
    world.put_object(Bucket=BUCKET, Key="reports/drift/latest.json", Body=older)
    client = publish.s3_client(max_attempts=2)
    # Both attempts at latest.json answer 500. moto still stores the body (as S3 may, when a
    # put times out after landing), so the run must also undo that put.
    attempts = inject(client, "PutObject", lambda p: p.endswith("/latest.json"), 500, 2)
    with pytest.raises(ClientError, match="InternalError"):
        drift_job.run(scheduled_event(), DriftConfig.from_env(), client)
    # botocore retried the 500 once, the run failed loudly, then put the old latest.json back.
    assert len(attempts) == 3
    # The report, its JSON and summary were uploaded, then removed: nothing partial remains.
    assert objects(world, "reports/") == {"reports/drift/latest.json": older}


def test_transient_upload_errors_are_retried(world: Any) -> None:
    client = publish.s3_client()  # the job's own client: 5 attempts, standard mode
    attempts = inject(client, "PutObject", lambda p: p.endswith("/summary.json"), 503, 2)
    result = drift_job.run(scheduled_event(), DriftConfig.from_env(), client)
    assert len(attempts) == 3
    assert result["status"] == "skipped"
    assert set(objects(world, "reports/")) == {PREFIX + "summary.json", "reports/drift/latest.json"}


def test_capture_read_errors_fail_the_run_before_anything_is_written(world: Any) -> None:
    for day in WINDOW_DAYS[:3]:
        put_captures(world, BUCKET, applications(100, seed=day.day), at(day))
    client = publish.s3_client(max_attempts=2)
    inject(client, "GetObject", lambda p: "/captures/" in p, 500, 10**6)
    with pytest.raises(ClientError, match="InternalError"):
        drift_job.run(scheduled_event(), DriftConfig.from_env(), client)
    assert objects(world, "reports/") == {}
