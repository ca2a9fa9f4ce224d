"""template.yaml read as data: least-privilege IAM, the functions' configuration, storage
hardening, logs, alarms and outputs. (cfn-lint, sam validate --lint and checkov run in
infra/check_template.sh, called by `make test`.)

The IAM rule: no "*" in any Action of an Allow statement, and no Resource that is "*" or
wildcards anything above one named bucket prefix / one log group's streams. The only "*"
actions are the TLS-only buckets' ``Deny s3:*``, which take privilege away.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"


# --------------------------------------------------------------------------- loading
class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short forms (!Ref, !Sub, ...) into their
    long forms ({"Ref": ...}, {"Fn::Sub": ...})."""


def _short_form(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_form)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)  # nosec B506


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def render(value: Any) -> str:
    """A readable string for a (possibly intrinsic) value: ${X} for Ref/GetAtt."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return f"${{{inner}}}"
        if key == "Fn::GetAtt":
            return "${" + ".".join(inner) + "}"
        if key == "Fn::Sub":
            return inner if isinstance(inner, str) else inner[0]
    raise AssertionError(f"unexpected intrinsic value {value!r}")


def unconditional(items: list[Any]) -> Iterator[Any]:
    """Items of a list, with Fn::If unwrapped into both branches (AWS::NoValue dropped)."""
    for item in items:
        if isinstance(item, dict) and "Fn::If" in item:
            _, when_true, when_false = item["Fn::If"]
            yield from unconditional([when_true, when_false])
        elif item != {"Ref": "AWS::NoValue"}:
            yield item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            yield f"{name} trust", props["AssumeRolePolicyDocument"]
            for policy in props.get("Policies", []):
                yield f"{name} {policy['PolicyName']}", policy["PolicyDocument"]
        elif resource["Type"] in (
            "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy",
        ):  # fmt: skip
            yield name, props["PolicyDocument"]


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, document in policy_documents(template):
        for statement in unconditional(document["Statement"]):
            yield where, statement


def grants(template: dict[str, Any], role: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the role's inline policies allow."""
    pairs = set()
    for where, statement in statements(template):
        if where.startswith(f"{role} ") and statement["Effect"] == "Allow" and "trust" not in where:
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    pairs.add((action, render(resource)))
    return pairs


# --------------------------------------------------------------------------- IAM
def test_no_wildcard_actions_in_any_allow(template):
    seen = 0
    for where, statement in statements(template):
        assert "NotAction" not in statement and "NotResource" not in statement, where
        for action in as_list(statement["Action"]):
            seen += 1
            if statement["Effect"] == "Allow":
                assert "*" not in action, f"{where}: wildcard action {action!r}"
            else:  # a Deny may be broad: it only removes privilege
                assert statement["Effect"] == "Deny", where
    assert seen >= 15


def test_no_wildcard_resources(template):
    # "*" may only end an ARN: the objects under one bucket prefix ("/" or a prefix
    # parameter whose pattern ends in "/"), the streams of one log group, or the versions
    # of one function ("${Function.Arn}:*").
    allowed_tail = re.compile(r"(/|/\$\{(?P<prefix>\w+Prefix)\}|:log-stream:|\.Arn\}:)\*$")
    prefixes = set()
    for where, statement in statements(template):
        if "trust" in where:
            continue
        for resource in as_list(statement["Resource"]):
            text = render(resource)
            assert text != "*", f"{where}: Resource '*'"
            if "*" not in text:
                continue
            tail = allowed_tail.search(text)
            assert text.count("*") == 1 and tail, f"{where}: wildcard resource {text!r}"
            scope = text[: tail.start()]
            assert scope.startswith("${") or ":${" in scope, f"{where}: unscoped {text!r}"
            if tail["prefix"]:
                prefixes.add(tail["prefix"])
    assert prefixes == {"ModelPrefix", "ChallengerModelPrefix", "CapturePrefix", "ReportPrefix",
                        "BookPrefix", "ScorePrefix",
                        "OutcomePrefix", "OutcomesReportPrefix", "AthenaResultsPrefix",
                        "DecisionsPrefix"}
    for name in prefixes:
        assert template["Parameters"][name]["AllowedPattern"].endswith("/$"), name
    # An empty ModelPrefix (the packaged bundle) would open the whole bucket: that grant
    # exists only under UseS3Model (ModelPrefix not empty); see the next-but-one test.
    assert template["Conditions"]["UseS3Model"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ModelPrefix"}, ""]}]
    }


def test_deny_statements_are_the_tls_guard_and_the_capture_bucket_fence(template):
    fence = {"OnlyFirehoseWrites": ("s3:PutObject", ["CaptureFirehoseRole",
                                                     "OutcomesFunctionRole"]),
             "OnlyDriftReads": ("s3:GetObject", ["DriftFunctionRole", "OutcomesFunctionRole"])}
    for where, statement in statements(template):
        if statement["Effect"] != "Deny":
            continue
        if statement.get("Sid") in fence:
            action, roles = fence[statement["Sid"]]
            assert where.startswith("CaptureBucketPolicy"), where
            assert statement["Action"] == action
            assert statement["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [
                {"Fn::GetAtt": [role, "Arn"]} for role in roles]}}
            continue
        assert statement["Action"] == "s3:*", where
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, where


def test_functions_use_the_templates_roles_and_no_managed_policies(template):
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        assert "Policies" not in props, f"{name}: SAM policies would add managed grants"
        assert props["Role"]["Fn::GetAtt"][1] == "Arn", name
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        props = role["Properties"]
        assert "ManagedPolicyArns" not in props, f"{name}: managed policies grant on '*'"
        trust = props["AssumeRolePolicyDocument"]["Statement"]
        if name == "CaptureFirehoseRole":
            assert trust == [{"Effect": "Allow",
                              "Principal": {"Service": "firehose.amazonaws.com"},
                              "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {
                                  "sts:ExternalId": {"Ref": "AWS::AccountId"}}}}]
            continue
        if name == "BookStateMachineRole":
            assert trust == [{"Effect": "Allow",
                              "Principal": {"Service": "states.amazonaws.com"},
                              "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {
                                  "aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]
            continue
        assert trust == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]


def test_scoring_role_reads_the_model_prefix_and_sends_captures_only(template):
    log_streams = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
        "log-group:${ScoringLogGroup}:log-stream:*"
    )
    assert grants(template, "ScoringFunctionRole") == {
        ("logs:CreateLogStream", log_streams),
        ("logs:PutLogEvents", log_streams),
        ("s3:GetObject", "${ModelBucket.Arn}/${ModelPrefix}*"),
        ("firehose:PutRecordBatch", "${CaptureDeliveryStream.Arn}"),
        ("firehose:PutRecord", "${CaptureDeliveryStream.Arn}"),
        ("secretsmanager:GetSecretValue", "${CaptureHashKeySecret}"),
    }


def test_scoring_grants_follow_their_conditions(template):
    policy = template["Resources"]["ScoringFunctionRole"]["Properties"]["Policies"][0]
    conditional = {
        item["Fn::If"][1]["Sid"]: item["Fn::If"][0]
        for item in policy["PolicyDocument"]["Statement"]
        if "Fn::If" in item
    }
    assert conditional == {"ReadModelBundle": "UseS3Model", "SendCaptures": "CaptureEnabled",
                           "ReadCaptureHashKey": "CaptureEnabled"}


def test_the_hash_key_is_read_at_start_up_by_the_scoring_role_only(template):
    """Never resolved into an environment (anyone who can read the function's configuration
    could read it): the function gets the secret's ARN and only its role may read it."""
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "resolve:secretsmanager" not in text
    variables = template["Resources"]["ScoringFunction"]["Properties"]["Environment"]["Variables"]
    assert "CAPTURE_HASH_KEY" not in variables
    assert variables["CAPTURE_HASH_KEY_SECRET_ARN"] == {
        "Fn::If": ["CaptureEnabled", {"Ref": "CaptureHashKeySecret"}, {"Ref": "AWS::NoValue"}]}
    readers = {(where.split(" ")[0], render(s["Resource"])) for where, s in statements(template)
               if s.get("Effect") == "Allow" and any(
                   a.startswith("secretsmanager:") for a in as_list(s.get("Action", [])))}
    assert readers == {("ScoringFunctionRole", "${CaptureHashKeySecret}")}
    (reader,) = [s for where, s in statements(template) if where.startswith("ScoringFunctionRole")
                 and s.get("Sid") == "ReadCaptureHashKey"]
    assert reader["Action"] == "secretsmanager:GetSecretValue"


def test_drift_role_reads_captures_and_reference_and_writes_reports_only(template):
    log_streams = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
        "log-group:${DriftLogGroup}:log-stream:*"
    )
    assert grants(template, "DriftFunctionRole") == {
        ("logs:CreateLogStream", log_streams),
        ("logs:PutLogEvents", log_streams),
        ("s3:ListBucket", "${CaptureBucket.Arn}"),
        ("s3:GetObject", "${CaptureBucket.Arn}/${CapturePrefix}*"),
        ("s3:ListBucket", "${DataBucket.Arn}"),
        ("s3:GetObject", "${DataBucket.Arn}/${ReferenceKey}"),
        ("s3:GetObject", "${DataBucket.Arn}/${ReferenceScoresKey}"),
        ("s3:GetObject", "${DataBucket.Arn}/${ReferenceCardKey}"),
        ("s3:GetObject", "${DataBucket.Arn}/${ReportPrefix}latest.json"),  # newer window?
        ("s3:PutObject", "${DataBucket.Arn}/${ReportPrefix}*"),
        ("s3:DeleteObject", "${DataBucket.Arn}/${ReportPrefix}*"),
        ("s3:GetObject", "${ModelBucket.Arn}/${ChallengerModelPrefix}*"),  # UseChallenger
    }
    listing = [
        s for where, s in statements(template)
        if where.startswith("DriftFunctionRole ") and s.get("Action") == "s3:ListBucket"
    ]  # fmt: skip
    assert [s["Condition"] for s in listing] == [
        {"StringLike": {"s3:prefix": {"Fn::Sub": "${CapturePrefix}*"}}},
        {"StringLike": {"s3:prefix": {"Fn::Sub": "${ReportPrefix}latest.json"}}},
    ]


def test_capture_delivery_stream_writes_hourly_gzip_objects(template):
    from contract.capture_format import DEFAULT_ERROR_PREFIX, firehose_prefix

    props = template["Resources"]["CaptureDeliveryStream"]["Properties"]
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert props["DeliveryStreamType"] == "DirectPut"
    assert props["DeliveryStreamEncryptionConfigurationInput"] == {"KeyType": "AWS_OWNED_CMK"}
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["Prefix"] == {"Fn::Sub": firehose_prefix("${CapturePrefix}")}
    assert s3["ErrorOutputPrefix"].startswith(DEFAULT_ERROR_PREFIX)
    assert s3["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 16}
    assert s3["BucketARN"] == {"Fn::GetAtt": ["CaptureBucket", "Arn"]}
    assert grants(template, "CaptureFirehoseRole") == {
        (action, resource) for action in (
            "s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket",
            "s3:ListBucketMultipartUploads", "s3:PutObject")
        for resource in ("${CaptureBucket.Arn}", "${CaptureBucket.Arn}/*")}


# --------------------------------------------------------------------------- functions
def test_scoring_function(template):
    props = template["Resources"]["ScoringFunction"]["Properties"]
    assert props["Runtime"] == "python3.12"
    assert props["Handler"] == "scoring.handler.handler"
    assert props["CodeUri"] == "function/"
    assert props["Architectures"] == ["x86_64"]  # onnxruntime wheels
    assert props.get("PackageType", "Zip") == "Zip"
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert props["AutoPublishAlias"] == "live"  # SnapStart applies to published versions
    assert props["Timeout"] <= 15
    assert props["MemorySize"] == {"Ref": "ScoringMemorySize"}
    assert template["Parameters"]["ScoringMemorySize"]["Default"] == 1024
    assert set(props["Environment"]["Variables"]) == {
        "MODEL_S3_URI", "CAPTURE_STREAM", "CAPTURE_HASH_KEY_SECRET_ARN",
    }  # fmt: skip  (champion only: the monitor scores a challenger)


def test_scoring_routes_are_behind_the_iam_authenticated_throttled_api(template):
    props = template["Resources"]["ScoringFunction"]["Properties"]
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in props["Events"].values()
        if e["Type"] == "HttpApi" and e["Properties"]["ApiId"] == {"Ref": "ScoringApi"}
    }
    assert routes >= {
        ("POST", "/predict"), ("POST", "/predict/batch"), ("GET", "/health"), ("GET", "/model"),
    }  # fmt: skip
    assert len(routes) == len(props["Events"])
    api = template["Resources"]["ScoringApi"]["Properties"]
    assert api["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    assert api["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
    }
    assert api["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]
    }


def test_drift_function_is_a_scheduled_container_image(template):
    drift = template["Resources"]["DriftFunction"]
    props = drift["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["drift.handler.handler"]
    assert props["Timeout"] <= 900
    assert props["MemorySize"] == {"Ref": "DriftMemorySize"}
    (event,) = props["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == {"Ref": "DriftSchedule"}
    assert template["Parameters"]["DriftSchedule"]["Default"] == "rate(1 day)"
    assert set(props["Environment"]["Variables"]) == {
        "REPORT_BUCKET", "CAPTURE_BUCKET", "CAPTURE_PREFIX", "REFERENCE_KEY",
        "REFERENCE_SCORES_KEY", "REFERENCE_CARD_KEY",
        "WINDOW_DAYS", "MIN_ROWS", "MAX_ROWS", "REPORT_PREFIX", "METRIC_NAMESPACE", "MODEL_NAME",
        "CHALLENGER_MODEL_S3_URI",
    }  # fmt: skip
    metadata = drift["Metadata"]
    assert set(metadata) >= {"DockerTag", "DockerContext", "Dockerfile"}


def test_drift_dockerfile_and_handler_exist():
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)  # nosec B506
    metadata = template["Resources"]["DriftFunction"]["Metadata"]
    dockerfile = REPO_ROOT / metadata["DockerContext"] / metadata["Dockerfile"]
    assert dockerfile.is_file(), f"{dockerfile} (the drift image) is missing"
    assert (REPO_ROOT / "drift" / "handler.py").is_file()


def test_docker_context_sends_what_the_drift_dockerfile_copies():
    """.dockerignore keeps the build context small (everything is excluded but a whitelist);
    each COPY source of the Dockerfile must be on that whitelist."""
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert "*" in lines
    dockerfile = (REPO_ROOT / "infra" / "drift.Dockerfile").read_text()
    sources = [
        source.rstrip("/")
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
    ]
    assert sources and set(sources) <= allowed, (sources, allowed)


def _sources(directory: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(directory.rglob("*.py")))


@pytest.mark.parametrize(
    ("function", "code_dir"), [("ScoringFunction", "function"), ("DriftFunction", "drift"),
                               ("PreTrafficHookFunction", "infra/hooks"),
                               ("BatchFunction", "portfolio function")]
)
def test_every_environment_variable_is_read_by_the_functions_code(template, function, code_dir):
    code = "\n".join(_sources(REPO_ROOT / d) for d in code_dir.split())
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    unread = [name for name in variables if f'"{name}"' not in code]
    assert not unread, f"{function} sets {unread}, which {code_dir}/ never reads"


# --------------------------------------------------------------------------- storage
def test_buckets_are_encrypted_versioned_private_and_tls_only(template):
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert set(buckets) >= {"ModelBucket", "DataBucket", "CaptureBucket"}
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources_of(template, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }  # fmt: skip
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules), name
        deny = [s for s in policies[name]
                if s["Effect"] == "Deny" and s["Sid"] == "DenyInsecureTransport"]
        assert deny == [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [
                    {"Fn::GetAtt": [name, "Arn"]},
                    {"Fn::Sub": f"${{{name}.Arn}}/*"},
                ],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]


def test_captures_and_capture_errors_expire(template):
    from contract.capture_format import DEFAULT_ERROR_PREFIX

    props = template["Resources"]["CaptureBucket"]["Properties"]
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-captures"]["Prefix"] == {"Ref": "CapturePrefix"}
    assert rules["expire-capture-errors"]["Prefix"] == DEFAULT_ERROR_PREFIX
    for rule in ("expire-captures", "expire-capture-errors"):
        assert rules[rule]["ExpirationInDays"] == {"Ref": "CaptureRetentionDays"}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "NoncurrentVersionRetentionDays"}}
    assert template["Parameters"]["CaptureRetentionDays"]["Default"] == 90


def test_decision_records_and_their_bundles_outlive_the_captures(template):
    """The decisions table lives 25 months (Regulation B) after the captures have gone, and
    a model bundle, never expired, keeps a replaced or deleted version as long."""
    rules = {r["Id"]: r for r in template["Resources"]["CaptureBucket"]["Properties"][
        "LifecycleConfiguration"]["Rules"]}
    assert rules["expire-decisions"]["Prefix"] == {"Ref": "DecisionsPrefix"}
    assert rules["expire-decisions"]["ExpirationInDays"] == {"Ref": "DecisionRetentionDays"}
    days = template["Parameters"]["DecisionRetentionDays"]["Default"]
    assert days >= 25 * 31 - 15 > template["Parameters"]["CaptureRetentionDays"]["Default"]
    (model_rule,) = template["Resources"]["ModelBucket"]["Properties"][
        "LifecycleConfiguration"]["Rules"]
    assert "ExpirationInDays" not in model_rule and "Prefix" not in model_rule
    assert model_rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "DecisionRetentionDays"}}
    from drift.compaction import DEFAULT_PREFIX

    assert template["Parameters"]["DecisionsPrefix"]["Default"] == DEFAULT_PREFIX
    env = template["Resources"]["OutcomesFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DECISIONS_PREFIX"] == {"Ref": "DecisionsPrefix"}


def test_logs_have_retention_and_the_functions_use_their_log_groups(template):
    groups = resources_of(template, "AWS::Logs::LogGroup")
    assert len(groups) == 6  # five functions and the API access log
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for name, group in (("ScoringFunction", "ScoringLogGroup"), ("DriftFunction", "DriftLogGroup"),
                        ("PreTrafficHookFunction", "PreTrafficHookLogGroup"),
                        ("BatchFunction", "BatchLogGroup"),
                        ("OutcomesFunction", "OutcomesLogGroup")):
        config = template["Resources"][name]["Properties"]["LoggingConfig"]
        assert config["LogGroup"] == {"Ref": group}


def test_every_function_logs_json_at_the_templates_levels(template):
    """LogFormat JSON: Lambda filters the code's lines on their "level" and passes
    ApplicationLogLevel to the code as AWS_LAMBDA_LOG_LEVEL (contract/logs.py)."""
    functions = resources_of(template, "AWS::Serverless::Function")
    assert set(functions) == {"ScoringFunction", "DriftFunction", "PreTrafficHookFunction",
                              "BatchFunction", "OutcomesFunction"}
    for function in functions.values():
        assert function["Properties"]["LoggingConfig"] | {"LogGroup": None} == {
            "LogGroup": None, "LogFormat": "JSON",
            "ApplicationLogLevel": {"Ref": "ApplicationLogLevel"},
            "SystemLogLevel": {"Ref": "SystemLogLevel"}}
    parameters = template["Parameters"]
    assert parameters["ApplicationLogLevel"]["Default"] == "INFO"
    assert set(parameters["ApplicationLogLevel"]["AllowedValues"]) == {
        "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
    assert set(parameters["SystemLogLevel"]["AllowedValues"]) == {"DEBUG", "INFO", "WARN"}
    from contract.logs import LAMBDA_LEVELS

    assert set(parameters["ApplicationLogLevel"]["AllowedValues"]) <= set(LAMBDA_LEVELS)


# --------------------------------------------------------------------------- operations
def test_alarms_cover_5xx_rate_p99_latency_and_drift_share(template):
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    rate = alarms["Api5xxRateAlarm"]["Properties"]
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "5xx"
    assert metrics["requests"]["MetricStat"]["Metric"]["MetricName"] == "Count"
    assert "errors" in metrics["rate"]["Expression"] and "requests" in metrics["rate"]["Expression"]
    latency = alarms["ApiLatencyP99Alarm"]["Properties"]
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("Latency", "p99")
    drift = alarms["DriftShareAlarm"]["Properties"]
    assert (drift["Namespace"], drift["MetricName"]) == ("CreditScoring/Drift", "DriftShare")
    # The EMF line's dimension set is exactly {Model}, valued by the drift function's env.
    assert drift["Dimensions"] == [{"Name": "Model", "Value": {"Ref": "AWS::StackName"}}]
    env = template["Resources"]["DriftFunction"]["Properties"]["Environment"]["Variables"]
    assert env["METRIC_NAMESPACE"] == drift["Namespace"]
    assert env["MODEL_NAME"] == {"Ref": "AWS::StackName"}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"


def test_the_drift_code_emits_the_metric_the_alarm_watches():
    from drift.config import DriftConfig
    from drift.drift_job import metric_line

    config = DriftConfig.from_env(
        {"REPORT_BUCKET": "b", "CAPTURE_BUCKET": "b", "REFERENCE_KEY": "r.csv.gz",
         "METRIC_NAMESPACE": "CreditScoring/Drift", "MODEL_NAME": "credit-scoring"}
    )  # fmt: skip
    summary = {"drift_share": 0.25, "drifted_count": 30, "dataset_drift": False,
               "rows": {"current": 500}, "window": {"end": "2026-11-27"}}  # fmt: skip
    line = json.loads(metric_line(summary, config))
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "CreditScoring/Drift"
    assert directive["Dimensions"] == [["Model"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["DriftShare"]
    assert (line["Model"], line["DriftShare"]) == ("credit-scoring", 0.25)


def test_parameters_conditions_and_outputs(template):
    assert {
        "DriftSchedule", "DriftWindowDays", "EnableCapture", "ModelPrefix", "CapturePrefix",
        "ReferenceKey",
    } <= set(template["Parameters"])  # fmt: skip
    assert template["Conditions"]["CaptureEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableCapture"}, "true"]
    }
    assert {"ApiUrl", "ModelBucketName", "DataBucketName"} <= set(template["Outputs"])
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def test_every_checkov_skip_gives_a_reason(template):
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
        assert len(skip.get("comment", "").split()) >= 6, f"{name} {skip['id']}: no reason"


def test_samconfig_example_overrides_existing_parameters(template):
    config = tomllib.loads((REPO_ROOT / "infra" / "samconfig.toml.example").read_text())
    for section in ("deploy", "local_invoke"):
        overrides = config["default"][section]["parameters"]["parameter_overrides"]
        for item in overrides:
            key, value = item.split("=", 1)
            assert key in template["Parameters"], f"{section}: unknown parameter {key}"
            assert value, f"{section}: SAM rejects an empty value for {key}"


def test_sam_build_runs_the_shared_package_build(template):
    # BuildMethod makefile: sam build runs function/Makefile's build-ScoringFunction, which
    # calls infra/build_function.py (requirements-fn.txt, pruned, precompiled .pyc).
    assert template["Resources"]["ScoringFunction"]["Metadata"]["BuildMethod"] == "makefile"
    makefile = (REPO_ROOT / "function" / "Makefile").read_text()
    assert "build-ScoringFunction:" in makefile
    assert "-m infra.build_function \"$(ARTIFACTS_DIR)\"" in makefile
    # The default Python builder's manifest would be dead weight (and misleading).
    assert not (REPO_ROOT / "function" / "requirements.txt").exists()
    from infra import build_function

    assert build_function.REQUIREMENTS == REPO_ROOT / "requirements-fn.txt"


# ------------------------------------------------------------------- loan-officer page
OFFICER_JWT_ROUTES = {"POST /officer/predict", "POST /officer/compare", "GET /officer/reference",
                      "GET /officer/model", "GET /officer/examples"}


def test_officer_page_has_its_own_parameter_on_by_default(template):
    parameter = template["Parameters"]["EnableOfficerPage"]
    assert parameter["Default"] == "true" and parameter["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["OfficerPageEnabled"] == {
        "Fn::Equals": [{"Ref": "EnableOfficerPage"}, "true"]}
    officer = {n: r for n, r in template["Resources"].items() if n.startswith("Officer")}
    assert len(officer) >= 10
    assert all(r.get("Condition") == "OfficerPageEnabled" for r in officer.values())


def test_officers_sign_in_with_cognito_admin_created_accounts(template):
    pool = template["Resources"]["OfficerUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    client = template["Resources"]["OfficerUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False  # a browser client: authorization code + PKCE
    assert client["AllowedOAuthFlows"] == ["code"]
    page = "https://${ScoringApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/ui"
    assert client["CallbackURLs"] == [{"Fn::Sub": page}]


def test_every_data_route_requires_an_authenticated_caller(template):
    resources = template["Resources"]
    authorizer = resources["OfficerAuthorizer"]["Properties"]
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": "OfficerUserPoolClient"}]
    routes = {r["Properties"]["RouteKey"]: r["Properties"]
              for r in resources_of(template, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == OFFICER_JWT_ROUTES | {"GET /ui", "GET /ui/{name}"}
    for key in OFFICER_JWT_ROUTES:
        assert routes[key]["AuthorizationType"] == "JWT", key
        assert routes[key]["AuthorizerId"] == {"Ref": "OfficerAuthorizer"}
    # The page and its two static files hold no data; the app serves nothing else under /ui.
    assert routes["GET /ui"]["AuthorizationType"] == "NONE"
    assert routes["GET /ui/{name}"]["AuthorizationType"] == "NONE"
    # Machine clients: /compare and /reference with the API's default IAM authorizer.
    events = resources["ScoringFunction"]["Properties"]["Events"]
    machine = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert {("POST", "/compare"), ("GET", "/reference")} <= machine
    assert all("Auth" not in e["Properties"] for e in events.values())


def test_page_integration_passes_the_sign_in_settings_and_no_cors(template):
    resources = template["Resources"]
    params = resources["OfficerPageIntegration"]["Properties"]["RequestParameters"]
    assert params["overwrite:header.x-officer-auth-client"] == {"Ref": "OfficerUserPoolClient"}
    assert "OfficerUserPoolDomain" in render(params["overwrite:header.x-officer-auth-domain"])
    from scoring.officer import AUTH_CLIENT_HEADER, AUTH_DOMAIN_HEADER

    assert {f"overwrite:header.{AUTH_DOMAIN_HEADER}",
            f"overwrite:header.{AUTH_CLIENT_HEADER}"} == set(params)
    # Same origin only: no CORS configuration, so no other origin may read the answers.
    assert "CorsConfiguration" not in resources["ScoringApi"]["Properties"]
    assert all("*" not in render(url) for url in
               resources["OfficerUserPoolClient"]["Properties"]["CallbackURLs"])
    for name in ("OfficerInvokePermission", "OfficerPageInvokePermission"):
        assert resources[name]["Properties"]["FunctionName"] == {"Ref": "ScoringFunction.Alias"}


# --------------------------------------------------------------------------- outcomes
def test_outcomes_function_runs_monthly_on_the_drift_image(template):
    outcomes = template["Resources"]["OutcomesFunction"]
    drift = template["Resources"]["DriftFunction"]
    props = outcomes["Properties"]
    assert props["PackageType"] == "Image"
    assert props["ImageConfig"]["Command"] == ["drift.outcomes_handler.handler"]
    assert {k: outcomes["Metadata"][k] for k in ("DockerTag", "DockerContext", "Dockerfile")} == {
        k: drift["Metadata"][k] for k in ("DockerTag", "DockerContext", "Dockerfile")}
    (event,) = props["Events"].values()
    assert event["Properties"]["Schedule"] == {"Ref": "OutcomesSchedule"}
    assert template["Parameters"]["OutcomesSchedule"]["Default"] == "cron(0 6 1 * ? *)"
    env = props["Environment"]["Variables"]
    from drift.config import OutcomesConfig

    config = OutcomesConfig.from_env({k: "x" for k in env if isinstance(env[k], dict)}
                                     | {"OUTCOME_MONTHS": "12", "LOOKBACK_MONTHS": "25"})
    assert config.report_bucket == "x" and env["MODEL_CARD_KEY"] == {"Ref": "ReferenceCardKey"}
    # OutcomesEngine=athena: the job gets the workgroup and database (drift.athena)
    assert env["ATHENA_WORKGROUP"]["Fn::If"][:2] == ["OutcomesOnAthena",
                                                     {"Ref": "OutcomesWorkGroup"}]
    assert env["ATHENA_DATABASE"]["Fn::If"][:2] == ["OutcomesOnAthena",
                                                    {"Ref": "MonitoringDatabase"}]
    assert template["Parameters"]["OutcomesEngine"]["Default"] == "duckdb"


def test_outcomes_role_reads_captures_outcomes_card_and_writes_its_reports_only(template):
    log_streams = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
        "log-group:${OutcomesLogGroup}:log-stream:*"
    )
    assert grants(template, "OutcomesFunctionRole") == {
        ("logs:CreateLogStream", log_streams),
        ("logs:PutLogEvents", log_streams),
        ("s3:ListBucket", "${CaptureBucket.Arn}"),
        ("s3:GetObject", "${CaptureBucket.Arn}/${CapturePrefix}*"),
        *((f"s3:{a}", "${CaptureBucket.Arn}/${DecisionsPrefix}*")
          for a in ("GetObject", "PutObject", "DeleteObject")),
        ("s3:ListBucket", "${DataBucket.Arn}"),
        ("s3:GetObject", "${DataBucket.Arn}/${OutcomePrefix}*"),
        ("s3:GetObject", "${DataBucket.Arn}/${ReferenceCardKey}"),
        ("s3:GetObject", "${DataBucket.Arn}/${OutcomesReportPrefix}*"),
        ("s3:PutObject", "${DataBucket.Arn}/${OutcomesReportPrefix}*"),
        ("s3:DeleteObject", "${DataBucket.Arn}/${OutcomesReportPrefix}*"),
        ("s3:GetObject", "${ModelBucket.Arn}/${ChallengerModelPrefix}*"),  # UseChallenger
    }


def test_the_outcomes_alarm_watches_what_the_job_emits(template):
    from drift.config import OutcomesConfig
    from drift.outcomes_handler import emf_lines

    alarm = template["Resources"]["OutcomesQualityAlarm"]["Properties"]
    watched = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]
               for m in alarm["Metrics"] if "MetricStat" in m}
    env = template["Resources"]["OutcomesFunction"]["Properties"]["Environment"]["Variables"]
    line = json.loads(emf_lines({"as_of": "2026-07-01", "cohorts": []}, OutcomesConfig(
        "b", "b", "b", "k", metric_namespace=env["METRIC_NAMESPACE"], model_name="stack"))[-1])
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert {m["Name"] for m in directive["Metrics"]} == set(watched)
    for metric in watched.values():
        assert metric["Namespace"] == directive["Namespace"]
        assert metric["Dimensions"] == [{"Name": "Model", "Value": {"Ref": "AWS::StackName"}}]
    assert directive["Dimensions"] == [["Model"]]


def test_athena_tables_match_the_records_and_the_join(template):
    """The Glue tables hold the columns the join's SQL reads, typed like DuckDB's views,
    and their partition projection yields the Firehose and loader layouts."""
    from contract.capture_format import firehose_prefix
    from contract.outcome_format import day_prefix
    from contract.schema import FEATURE_FIELDS
    from drift.outcomes_join import CAPTURE_COLUMNS, OUTCOME_COLUMNS

    hive = {"VARCHAR": "string", "DOUBLE": "double", "INTEGER": "int"}
    resources = template["Resources"]
    for name, columns in (("CapturesTable", CAPTURE_COLUMNS), ("OutcomesTable", OUTCOME_COLUMNS)):
        table = resources[name]["Properties"]["TableInput"]
        got = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
        expected = {k: hive[v] for k, v in columns.items()}
        if name == "CapturesTable":
            expected["features"] = "struct<" + ",".join(
                f"{f.name.lower()}:{'string' if f.kind == 'category' else 'double'}"
                for f in FEATURE_FIELDS) + ">"
        assert got == expected, name
        assert table["Parameters"]["projection.enabled"] == "true"
    captures = resources["CapturesTable"]["Properties"]["TableInput"]["Parameters"]
    assert render(captures["storage.location.template"]) == (
        "s3://${CaptureBucket}/${CapturePrefix}dt=${!dt}/hour=${!hour}/")
    assert firehose_prefix("P/") == "P/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    assert (captures["projection.dt.format"], captures["projection.hour.digits"]) == (
        "yyyy-MM-dd", "2")
    outcomes = resources["OutcomesTable"]["Properties"]["TableInput"]["Parameters"]
    assert render(outcomes["storage.location.template"]) == (
        "s3://${DataBucket}/${OutcomePrefix}dt=${!dt}/")
    # the decisions table: the captures' columns, Parquet, one partition per month
    decisions = resources["DecisionsTable"]["Properties"]["TableInput"]
    captures_columns = resources["CapturesTable"]["Properties"]["TableInput"][
        "StorageDescriptor"]["Columns"]
    assert decisions["StorageDescriptor"]["Columns"] == captures_columns
    assert decisions["PartitionKeys"] == [{"Name": "month", "Type": "string"}]
    assert decisions["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith(
        "ParquetHiveSerDe")
    assert (decisions["Parameters"]["projection.month.format"],
            decisions["Parameters"]["projection.month.interval.unit"]) == ("yyyy-MM", "MONTHS")
    assert render(decisions["Parameters"]["storage.location.template"]) == (
        "s3://${CaptureBucket}/${DecisionsPrefix}month=${!month}/")
    from datetime import date

    assert day_prefix(date(2027, 1, 2), "P/") == "P/dt=2027-01-02/"


def test_athena_workgroup_cuts_off_scans_and_its_results_expire(template):
    group = template["Resources"]["OutcomesWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert group["EnforceWorkGroupConfiguration"] is True
    assert group["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert render(group["ResultConfiguration"]["OutputLocation"]) == (
        "s3://${DataBucket}/${AthenaResultsPrefix}")
    rules = template["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if r["Id"] == "expire-athena-results"]
    assert rule["Prefix"] == {"Ref": "AthenaResultsPrefix"}
    assert rule["ExpirationInDays"] == {"Ref": "AthenaResultsRetentionDays"}


def test_athena_grants_are_the_outcome_jobs_workgroup_tables_and_results_only(template):
    policy = template["Resources"]["OutcomesAthenaPolicy"]["Properties"]
    assert policy["Roles"] == [{"Ref": "OutcomesFunctionRole"}]
    pairs = {(action, render(resource))
             for statement in policy["PolicyDocument"]["Statement"]
             for action in as_list(statement["Action"])
             for resource in as_list(statement["Resource"])}
    arn = "arn:${AWS::Partition}:SERVICE:${AWS::Region}:${AWS::AccountId}:"
    workgroup = arn.replace("SERVICE", "athena") + "workgroup/${OutcomesWorkGroup}"
    glue = arn.replace("SERVICE", "glue")
    assert pairs == {
        *((f"athena:{a}", workgroup) for a in ("StartQueryExecution", "GetQueryExecution",
                                               "GetQueryResults", "StopQueryExecution")),
        *((f"glue:{a}", r) for a in ("GetDatabase", "GetTable") for r in (
            glue + "catalog", glue + "database/${MonitoringDatabase}",
            glue + "table/${MonitoringDatabase}/${CapturesTable}",
            glue + "table/${MonitoringDatabase}/${OutcomesTable}",
            glue + "table/${MonitoringDatabase}/${DecisionsTable}")),
        ("s3:GetBucketLocation", "${DataBucket.Arn}"),
        ("s3:GetBucketLocation", "${CaptureBucket.Arn}"),
        ("s3:AbortMultipartUpload", "${CaptureBucket.Arn}/${DecisionsPrefix}*"),
        ("s3:ListBucket", "${DataBucket.Arn}"),
        *((f"s3:{a}", "${DataBucket.Arn}/${AthenaResultsPrefix}*")
          for a in ("PutObject", "GetObject", "AbortMultipartUpload")),
    }
