"""contract.aws: the S3 client and Lambda context Protocols match the real objects."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from contract.aws import LambdaContext, S3Client


def test_a_boto3_s3_client_satisfies_the_protocol(moto_s3) -> None:
    assert isinstance(moto_s3, S3Client)
    assert issubclass(moto_s3.exceptions.NoSuchKey, Exception)


def test_the_protocol_calls_work_as_declared_on_moto(moto_s3, tmp_path) -> None:
    """Every method is called with exactly the parameters the Protocol declares."""
    s3: S3Client = moto_s3
    moto_s3.create_bucket(Bucket="bucket")
    for name, body in (("one", b"1\n"), ("two", b"2\n")):
        s3.put_object(Bucket="bucket", Key=f"d/{name}.jsonl", Body=body, ContentType="text/plain")
    assert s3.get_object(Bucket="bucket", Key="d/one.jsonl")["Body"].read() == b"1\n"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="bucket", Prefix="d/")
    assert sorted(o["Key"] for page in pages for o in page["Contents"]) == [
        "d/one.jsonl", "d/two.jsonl"]
    s3.download_file("bucket", "d/two.jsonl", str(tmp_path / "two"))
    assert (tmp_path / "two").read_bytes() == b"2\n"
    s3.delete_object(Bucket="bucket", Key="d/one.jsonl")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket="bucket", Key="d/one.jsonl")
    s3.delete_objects(Bucket="bucket", Delete={"Objects": [{"Key": "d/two.jsonl"}], "Quiet": True})
    assert "Contents" not in moto_s3.list_objects_v2(Bucket="bucket")


def test_the_fake_lambda_context_satisfies_the_protocol() -> None:
    from infra.lambda_events import FakeLambdaContext

    context = FakeLambdaContext()
    assert isinstance(context, LambdaContext)
    assert context.get_remaining_time_in_millis() > 0


def test_an_object_without_a_request_id_is_not_a_lambda_context() -> None:
    @dataclass
    class NoRequestId:
        function_name: str = "f"
        function_version: str = "$LATEST"
        invoked_function_arn: str = "arn"
        memory_limit_in_mb: int = 128
        log_group_name: str = "g"
        log_stream_name: str = "s"

        def get_remaining_time_in_millis(self) -> int:
            return 1

    assert not isinstance(NoRequestId(), LambdaContext)
    assert not isinstance(io.BytesIO(), S3Client)
