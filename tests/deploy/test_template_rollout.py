"""template.yaml's safe rollout: the canary deployment preference, its alarms, and the
PreTraffic hook's function and least-privilege role."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.test_template import TEMPLATE, CfnLoader


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


def test_the_hook_function_targets_the_new_version_and_is_built_with_its_golden_set(template):
    resource = template["Resources"]["PreTrafficHookFunction"]
    hook = resource["Properties"]
    # CodeDeploy's managed role may invoke only functions named CodeDeployHook_*.
    assert hook["FunctionName"]["Fn::Sub"].startswith("CodeDeployHook_")
    assert (hook["CodeUri"], hook["Handler"]) == ("infra/hooks/", "pretraffic.handler")
    # infra/hooks/Makefile packages the golden set of HOOK_BUNDLE (infra/build_hook.py).
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    assert "DeploymentPreference" not in hook and "AutoPublishAlias" not in hook
    assert hook["Environment"]["Variables"] == {
        "TARGET_FUNCTION": {"Ref": "ScoringFunction.Version"}}


def test_the_hook_role_may_only_invoke_scoring_versions_report_and_write_its_logs(template):
    role = template["Resources"]["PreTrafficHookRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert all("Fn::If" not in s for s in statements)  # nothing conditional
    assert {s["Sid"]: s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"])
            for s in statements} == {
        "WriteOwnLogs": ("logs:CreateLogStream", "logs:PutLogEvents"),
        "InvokeScoringVersions": "lambda:InvokeFunction",
        "ReportToCodeDeploy": "codedeploy:PutLifecycleEventHookExecutionStatus",
    }
    assert not any("s3:" in str(s) for s in statements)
    by_sid = {s["Sid"]: s for s in statements}
    assert all(s["Effect"] == "Allow" for s in statements)
    assert by_sid["WriteOwnLogs"]["Resource"]["Fn::Sub"].endswith(
        ":log-group:${PreTrafficHookLogGroup}:log-stream:*")
    assert by_sid["InvokeScoringVersions"]["Resource"] == {"Fn::Sub": "${ScoringFunction.Arn}:*"}
    assert by_sid["ReportToCodeDeploy"]["Resource"]["Fn::Sub"].endswith(
        ":deploymentgroup:${ServerlessDeploymentApplication}/*")
