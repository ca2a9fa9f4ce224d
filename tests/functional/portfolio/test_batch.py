"""The Step Functions book re-scoring, executed by moto (5.x) with its Lambda invocations routed
to the real batch handler (portfolio.batch) in process: no Docker, no AWS.

moto runs a variant rendered from the real definition (infra/statemachine/score_book.asl.json):
the function ARN, bucket and prefix substituted as CloudFormation's DefinitionSubstitutions
would, and
ToleratedFailurePercentage written as a float (moto's parser refuses the integer 0 that the
real file holds). Nothing else differs. moto ignores ToleratedFailurePercentage (a failed
child does not fail its map there), so a run with an unreadable shard fails at the Summarize
step, which names the shards without counts; on AWS the map fails first.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest

from portfolio import batch
from portfolio.run import Job, score_book
from portfolio.split import split_book

DEFINITION = Path(__file__).resolve().parents[3] / "infra" / "statemachine" / \
    "score_book.asl.json"
REGION = "us-east-1"


def render(definition: str, function_arn: str) -> str:
    """The definition as moto can run it (see the module docstring)."""
    substitutions = {"BatchFunctionArn": function_arn, "ScoreBucket": "data",
                     "ScorePrefix": "scores/"}
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", value)
    document = json.loads(definition)
    document["States"]["ScoreShards"]["ToleratedFailurePercentage"] = float(
        document["States"]["ScoreShards"]["ToleratedFailurePercentage"])
    return json.dumps(document)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, trained_bundle: Path) -> Any:
    """moto with Step Functions executing definitions and Lambda invoking batch.handler."""
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    monkeypatch.delenv("MODEL_S3_URI", raising=False)
    monkeypatch.setattr(batch, "_STATE", {})

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        try:
            return json.dumps(batch.handler(json.loads(body or "{}"))).encode()
        except Exception as exc:  # what the Lambda runtime reports for an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": str(exc),
                               "errorType": type(exc).__name__}).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="data")
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName="batch", Runtime="python3.12", Role=role,
            Handler="portfolio.batch.handler", Code={"ZipFile": b"handled in process"})
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="score-book", roleArn=role, type="STANDARD",
            definition=render(DEFINITION.read_text(), function["FunctionArn"]))
        yield s3, sfn, machine["stateMachineArn"]


def _run(sfn: Any, machine: str, run_input: dict[str, Any]) -> dict[str, Any]:
    arn = sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex,
                              input=json.dumps(run_input))["executionArn"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return dict(execution)
        time.sleep(0.2)
    raise AssertionError("the execution did not finish in 120 s")


def _read_prefix(s3: Any, prefix: str, tmp_path: Path) -> pd.DataFrame:
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="data", Prefix=prefix)["Contents"]
                  if o["Key"].endswith(".parquet"))
    frames = []
    for key in keys:
        local = tmp_path / key.replace("/", "_")
        s3.download_file("data", key, str(local))
        frames.append(pq.read_table(local).to_pandas())
    return pd.concat(frames, ignore_index=True)


def test_the_execution_equals_the_one_machine_command(aws, trained_bundle, synthetic_book,
                                                      tmp_path):
    s3, sfn, machine = aws
    shards = split_book(str(synthetic_book), "s3://data/books/b1/", 500)
    assert shards == [f"s3://data/books/b1/shard-0000{i}.csv" for i in range(3)]
    execution = _run(sfn, machine, {"input": "s3://data/books/b1/",
                                    "output": "s3://data/scores/run1/", "reasons": 2})
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"]) == {"shards": 3, "rows_read": 1_500,
                                               "rows_scored": 1_500, "rows_rejected": 0,
                                               "declines": json.loads(execution["output"])[
                                                   "declines"]}
    local = score_book(Job(input=str(synthetic_book), output=tmp_path / "local", reasons=2,
                           progress=False), trained_bundle)
    remote = _read_prefix(s3, "scores/run1/shard-", tmp_path)
    ours = pd.concat([pq.read_table(p).to_pandas()
                      for p in sorted((tmp_path / "local").glob("part-*.parquet"))],
                     ignore_index=True)
    pd.testing.assert_frame_equal(remote, ours, check_exact=True)
    summary = json.loads(s3.get_object(Bucket="data", Key="scores/run1/summary.json")["Body"]
                         .read())
    for key in ("rows_read", "rows_scored", "declines", "decline_rate_by_group"):
        assert summary[key] == local[key]
    manifest = json.loads(s3.get_object(Bucket="data", Key="scores/run1/_SUCCESS")["Body"]
                          .read())
    assert [p["shard"] for p in manifest["parts"]] == [f"books/b1/shard-0000{i}.csv"
                                                       for i in range(3)]
    # A retried child overwrites its keys: a second run of the same shards writes no more.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="data", Prefix="scores/run1/shard-")[
        "Contents"]}
    assert _run(sfn, machine, {"input": "s3://data/books/b1/",
                               "output": "s3://data/scores/run1/", "reasons": 2})[
        "status"] == "SUCCEEDED"
    assert {o["Key"] for o in s3.list_objects_v2(Bucket="data", Prefix="scores/run1/shard-")[
        "Contents"]} == keys


def test_a_bad_row_is_a_reject_and_an_unreadable_shard_fails_the_run(aws, synthetic_book,
                                                                     tmp_path):
    s3, sfn, machine = aws
    frame = pd.read_csv(synthetic_book, nrows=40)
    frame["AMT_CREDIT"] = frame["AMT_CREDIT"].astype(object)
    frame.loc[5, "AMT_CREDIT"] = "unknown"
    frame.iloc[:20].to_csv(tmp_path / "a.csv", index=False)
    frame.iloc[20:].to_csv(tmp_path / "b.csv", index=False)
    s3.upload_file(str(tmp_path / "a.csv"), "data", "books/b2/shard-00000.csv")
    s3.upload_file(str(tmp_path / "b.csv"), "data", "books/b2/shard-00001.csv")
    execution = _run(sfn, machine, {"input": "s3://data/books/b2/",
                                    "output": "s3://data/scores/run2/"})
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["rows_rejected"] == 1
    rejects = s3.get_object(Bucket="data", Key="scores/run2/shard-00000.rejects.jsonl")[
        "Body"].read().decode().splitlines()
    reject = json.loads(rejects[0])
    assert (reject["row"], reject["shard"]) == (5, "books/b2/shard-00000.csv")
    assert reject["errors"][0]["field"] == "AMT_CREDIT"

    s3.put_object(Bucket="data", Key="books/b3/shard-00000.csv", Body=b"SK_ID_CURR\n1\n")
    s3.upload_file(str(tmp_path / "b.csv"), "data", "books/b3/shard-00001.csv")
    failed = _run(sfn, machine, {"input": "s3://data/books/b3/",
                                 "output": "s3://data/scores/run3/"})
    assert failed["status"] == "FAILED"
    assert "1 shard(s) not scored: books/b3/shard-00000.csv" in failed["cause"]
    assert not any(o["Key"].endswith("summary.json") for o in s3.list_objects_v2(
        Bucket="data", Prefix="scores/run3/").get("Contents", []))
    with pytest.raises(batch.ShardError, match=r"shard s3://data/books/b3/shard-00000\.csv: "
                       "lacks required column"):  # what the failed child reported
        batch.handler({"action": "shard", "bucket": "data", "key": "books/b3/shard-00000.csv",
                       "output_bucket": "data", "output_prefix": "scores/run3/"})


def test_plan_keeps_the_run_inside_the_allowed_prefixes(monkeypatch):
    monkeypatch.setenv("BOOK_BUCKET", "data")
    monkeypatch.setenv("BOOK_PREFIX", "books/")
    monkeypatch.setenv("SCORE_PREFIX", "scores/")
    monkeypatch.setenv("MAX_CONCURRENCY", "40")
    planned = batch.plan({"run": {"input": "s3://data/books/2026-11", "output":
                                  "s3://data/scores/2026-11/"}})
    assert planned == {"input": "s3://data/books/2026-11", "bucket": "data",
                       "prefix": "books/2026-11/", "output_bucket": "data",
                       "output_prefix": "scores/2026-11/", "reasons": 0, "max_concurrency": 40}
    with pytest.raises(batch.ShardError, match="not in the bucket data"):
        batch.plan({"input": "s3://other/books/x/", "output": "s3://data/scores/x/"})
    with pytest.raises(batch.ShardError, match=r"not under s3://data/scores/"):
        batch.plan({"input": "s3://data/books/x/", "output": "s3://data/books/x/out/"})
    with pytest.raises(batch.ShardError, match="unknown action"):
        batch.handler({"action": "drop"})


def test_the_definition_is_valid_json_with_the_documented_limits():
    document = json.loads(DEFINITION.read_text())
    scoring = document["States"]["ScoreShards"]
    assert scoring["ToleratedFailurePercentage"] == 0
    assert scoring["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED",
                                                          "ExecutionType": "STANDARD"}
    assert scoring["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    retry = scoring["ItemProcessor"]["States"]["ScoreShard"]["Retry"][0]
    assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
    assert retry["BackoffRate"] > 1
