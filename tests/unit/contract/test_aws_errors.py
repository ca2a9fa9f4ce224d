"""contract.aws_errors: botocore's own set-up exceptions, raised for real, become sentences;
anything else is left to the caller."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from contract import aws_errors


def _raised(call) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


def test_no_region(no_aws_config):
    exc = _raised(lambda: boto3.client("cloudformation"))
    assert type(exc).__name__ == "NoRegionError"
    assert aws_errors.explain(exc) == aws_errors.NO_REGION
    assert "AWS_REGION" in aws_errors.NO_REGION


def test_no_credentials(no_aws_config):
    no_aws_config.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    client = boto3.client("cloudformation")
    exc = _raised(lambda: client.describe_stacks(StackName="x"))
    assert type(exc).__name__ == "NoCredentialsError"
    assert aws_errors.explain(exc) == aws_errors.NO_CREDENTIALS


def test_a_missing_stack_is_named(moto_s3):
    client = boto3.client("cloudformation", region_name="us-east-1")
    exc = _raised(lambda: client.describe_stacks(StackName="nope"))
    message = aws_errors.explain(exc, "nope")
    assert message is not None and message.startswith("stack 'nope' does not exist")
    assert aws_errors.explain(exc) is None  # without a stack name it is not a set-up problem


def test_refused_credentials_and_other_errors():
    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "x"}}, "DescribeStacks")
    assert aws_errors.explain(expired) == aws_errors.BAD_CREDENTIALS.format(code="ExpiredToken")
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "GetObject")
    assert aws_errors.explain(denied) is None
    assert aws_errors.explain(ValueError("bad")) is None
    assert aws_errors.error_code(denied) == "AccessDenied"
    assert aws_errors.error_code(ValueError()) is None
