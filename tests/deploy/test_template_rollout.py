"""template.yaml's safe rollout: the canary deployment preference, its alarms, and the
PreTraffic hook's function and least-privilege role."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from contract.bundle import CARD_FILE, GOLDEN_FILE
from tests.deploy.test_template import TEMPLATE, CfnLoader, unconditional


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)  # nosec B506


def test_deployment_preference_is_a_parameterised_canary_with_alarms_and_hook(template):
    parameter = template["Parameters"]["DeploymentType"]
    assert parameter["Default"] == "Canary10Percent5Minutes"
    assert "AllAtOnce" in parameter["AllowedValues"]
    scoring = template["Resources"]["ScoringFunction"]["Properties"]
    assert scoring["AutoPublishAlias"] == "live"
    preference = scoring["DeploymentPreference"]
    assert preference["Type"] == {"Ref": "DeploymentType"}
    assert preference["Alarms"] == [{"Ref": "Api5xxRateAlarm"}, {"Ref": "ApiLatencyP99Alarm"},
                                    {"Ref": "NewVersionErrorsAlarm"}]
    assert preference["Hooks"] == {"PreTraffic": {"Ref": "PreTrafficHookFunction"}}


def test_the_new_version_errors_alarm_watches_the_version_being_shifted_to(template):
    alarm = template["Resources"]["NewVersionErrorsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions == {
        "Resource": {"Fn::Sub": "${ScoringFunction}:live"},
        "FunctionName": {"Ref": "ScoringFunction"},
        "ExecutedVersion": {"Fn::GetAtt": ["ScoringFunction", "Version.Version"]},
    }
    assert alarm["Threshold"] == 1 and alarm["Period"] == 60


def test_the_hook_function_targets_the_new_version_and_the_contracts_file_names(template):
    hook = template["Resources"]["PreTrafficHookFunction"]["Properties"]
    # CodeDeploy's managed role may invoke only functions named CodeDeployHook_*.
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")
    assert (hook["CodeUri"], hook["Handler"]) == ("infra/hooks/", "pretraffic.handler")
    assert "DeploymentPreference" not in hook and "AutoPublishAlias" not in hook
    env = hook["Environment"]["Variables"]
    assert env["TARGET_FUNCTION"] == {"Ref": "ScoringFunction.Version"}
    assert env["MODEL_BUCKET"] == {"Ref": "ModelBucket"}
    assert env["MODEL_PREFIX"] == {"Ref": "ModelPrefix"}
    assert (env["GOLDEN_FILE"], env["CARD_FILE"]) == (GOLDEN_FILE, CARD_FILE)


def test_the_hook_role_may_only_invoke_scoring_versions_report_and_read_the_golden_set(
        template):
    role = template["Resources"]["PreTrafficHookRole"]["Properties"]
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in unconditional(policy["PolicyDocument"]["Statement"])}
    assert {sid: s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"])
            for sid, s in statements.items()} == {
        "WriteOwnLogs": ("logs:CreateLogStream", "logs:PutLogEvents"),
        "InvokeScoringVersions": "lambda:InvokeFunction",
        "ReportToCodeDeploy": "codedeploy:PutLifecycleEventHookExecutionStatus",
        "ReadServedGoldenSet": "s3:GetObject",
    }
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert statements["InvokeScoringVersions"]["Resource"] == {
        "Fn::Sub": "${ScoringFunction.Arn}:*"}
    assert statements["ReportToCodeDeploy"]["Resource"]["Fn::Sub"].endswith(
        ":deploymentgroup:${ServerlessDeploymentApplication}/*")
    assert statements["ReadServedGoldenSet"]["Resource"] == [
        {"Fn::Sub": f"${{ModelBucket.Arn}}/${{ModelPrefix}}{GOLDEN_FILE}"},
        {"Fn::Sub": f"${{ModelBucket.Arn}}/${{ModelPrefix}}{CARD_FILE}"}]
    # The S3 read exists only when a model prefix is served (else it would open the bucket).
    conditional = [s for s in policy["PolicyDocument"]["Statement"] if "Fn::If" in s]
    assert [s["Fn::If"][0] for s in conditional] == ["UseS3Model"]
    assert conditional[0]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
