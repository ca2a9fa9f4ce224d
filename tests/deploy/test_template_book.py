"""template.yaml's book re-scoring block: the batch function (a container image over the same
code), its role and the state machine's role touch only the book and score prefixes, the map's
concurrency never exceeds the function's reserved concurrency, the definition file's
substitutions are all provided."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.deploy.test_template import REPO_ROOT, TEMPLATE, CfnLoader, grants


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)  # nosec B506


def test_batch_role_reads_shards_and_bundle_writes_outputs_only(template):
    assert grants(template, "BatchFunctionRole") == {
        ("logs:CreateLogStream", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                                 "log-group:${BatchLogGroup}:log-stream:*"),
        ("logs:PutLogEvents", "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                              "log-group:${BatchLogGroup}:log-stream:*"),
        ("s3:GetObject", "${DataBucket.Arn}/${BookPrefix}*"),
        ("s3:ListBucket", "${DataBucket.Arn}"),
        ("s3:PutObject", "${DataBucket.Arn}/${ScorePrefix}*"),
        ("s3:GetObject", "${DataBucket.Arn}/${ScorePrefix}*"),
        ("s3:DeleteObject", "${DataBucket.Arn}/${ScorePrefix}*"),
        ("s3:GetObject", "${ModelBucket.Arn}/${ModelPrefix}*"),
    }


def test_state_machine_role_lists_the_book_invokes_the_batch_function_runs_its_children(
        template):
    machine = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
    assert grants(template, "BookStateMachineRole") == {
        ("lambda:InvokeFunction", "${BatchFunction.Arn}"),
        ("lambda:InvokeFunction", "${BatchFunction.Arn}:*"),
        ("s3:ListBucket", "${DataBucket.Arn}"),
        *((action, "${DataBucket.Arn}/${ScorePrefix}*") for action in (
            "s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload")),
        ("states:StartExecution", f"{machine}:stateMachine:${{AWS::StackName}}-score-book"),
        *((action, f"{machine}:execution:${{AWS::StackName}}-score-book/*") for action in (
            "states:DescribeExecution", "states:StopExecution", "states:RedriveExecution")),
    }
    machine_props = template["Resources"]["BookStateMachine"]["Properties"]
    assert machine_props["Name"] == {"Fn::Sub": "${AWS::StackName}-score-book"}


def test_listing_is_fenced_to_the_prefixes(template):
    for role in ("BatchFunctionRole", "BookStateMachineRole"):
        for statement in template["Resources"][role]["Properties"]["Policies"][0][
                "PolicyDocument"]["Statement"]:
            if isinstance(statement, dict) and statement.get("Action") == "s3:ListBucket":
                assert "s3:prefix" in statement["Condition"]["StringLike"], role


def test_batch_function_is_an_image_with_reserved_concurrency_equal_to_the_map_limit(template):
    function = template["Resources"]["BatchFunction"]
    props = function["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["portfolio.batch.handler"]
    assert function["Metadata"]["Dockerfile"] == "infra/batch.Dockerfile"
    assert props["ReservedConcurrentExecutions"] == {"Ref": "BookMaxConcurrency"}
    assert props["Environment"]["Variables"]["MAX_CONCURRENCY"] == {"Ref": "BookMaxConcurrency"}
    assert template["Parameters"]["BookMaxConcurrency"]["Default"] == 100
    assert props["Timeout"] == 900
    dockerfile = (REPO_ROOT / "infra" / "batch.Dockerfile").read_text()
    for copied in ("contract/", "function/scoring/", "portfolio/", "requirements-batch.txt"):
        assert copied in dockerfile


def test_definition_substitutions_cover_the_definition_file(template):
    props = template["Resources"]["BookStateMachine"]["Properties"]
    definition = (REPO_ROOT / props["DefinitionUri"]).read_text()
    json.loads(definition)  # valid JSON as it stands: substitutions sit inside strings
    assert set(re.findall(r"\$\{(\w+)\}", definition)) == set(props["DefinitionSubstitutions"])
    assert props["Type"] == "STANDARD"


def test_the_linted_inline_template_holds_the_definition_and_every_substitution(template):
    from infra.inline_statemachine import SUBSTITUTIONS, inline_template

    inline = inline_template()["Resources"]["BookStateMachine"]["Properties"]
    props = template["Resources"]["BookStateMachine"]["Properties"]
    assert inline["Definition"] == json.loads((REPO_ROOT / props["DefinitionUri"]).read_text())
    assert set(SUBSTITUTIONS) == set(props["DefinitionSubstitutions"])
