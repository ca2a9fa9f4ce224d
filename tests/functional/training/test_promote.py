"""``python -m training promote`` on a real MLflow sqlite registry and moto's S3 and
CloudFormation: what lands where, the golden set and card kept for the hook's build, the
printed (or run) build-and-deploy command, the MLflow tag, and every refusal with its
message."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from mlflow.tracking import MlflowClient

from contract.bundle import CARD_FILE, GOLDEN_FILE, MODEL_FILE, PUBLISHED_FILES
from training import promote as promote_mod
from training.promote import PromoteError, promote
from training.tracking import REGISTERED_MODEL, Tracker

STACK_TEMPLATE = {
    "Parameters": {"ModelPrefix": {"Type": "String", "Default": ""}},
    "Resources": {"ModelBucket": {"Type": "AWS::S3::Bucket"},
                  "DataBucket": {"Type": "AWS::S3::Bucket"}},
    "Outputs": {
        "ModelBucketName": {"Value": {"Ref": "ModelBucket"}},
        "ReferenceS3Uri": {"Value": {"Fn::Sub": "s3://${DataBucket}/reference/reference.csv.gz"}},
    },
}


def _tamper_model(bundle: Path, card: dict) -> None:
    (bundle / MODEL_FILE).write_bytes((bundle / MODEL_FILE).read_bytes() + b"\0")


def _drop_category(bundle: Path, card: dict) -> None:
    entry = next(e for e in card["schema"] if e["name"] == "NAME_CONTRACT_TYPE")
    entry["categories"] = entry["categories"][:1]


def _failed_parity(bundle: Path, card: dict) -> None:
    card["parity"]["passed"] = False


@pytest.fixture(scope="module")
def registry(trained_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Versions 1 (sound), 2 (model.onnx altered), 3 (schema differs), 4 (parity failed)."""
    tmp = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    tracker = Tracker(uri)
    for number, change in enumerate((None, _tamper_model, _drop_category, _failed_parity), 1):
        bundle = tmp / f"bundle-{number}"
        shutil.copytree(trained_bundle, bundle)
        with tracker.parent_run(f"v{number}"):
            version = tracker.register_onnx(trained_bundle / MODEL_FILE, tags={},
                                            pip_requirements=["onnxruntime"])
            assert version == number
            card = json.loads((bundle / CARD_FILE).read_text())
            card["model_version"] = str(version)
            if change is not None:
                change(bundle, card)
            (bundle / CARD_FILE).write_text(json.dumps(card))
            tracker.log_artifacts(bundle, "bundle")
    # The champion alias ends on the last registered version: point it at the sound one.
    MlflowClient(tracking_uri=uri).set_registered_model_alias(REGISTERED_MODEL, "champion", "1")
    return uri


@pytest.fixture
def aws(moto_s3, tmp_path):
    """moto's S3 and CloudFormation, and where promote keeps golden sets (kept)."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    return SimpleNamespace(s3=moto_s3, cf=cloudformation, kept=tmp_path / "promoted")


def _stack(aws, name: str = "credit", model_prefix: str = "") -> dict[str, str]:
    aws.cf.create_stack(StackName=name, TemplateBody=json.dumps(STACK_TEMPLATE),
                        Parameters=[{"ParameterKey": "ModelPrefix",
                                     "ParameterValue": model_prefix}])
    outputs = aws.cf.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def _run(registry: str, aws, **kw):
    return promote(kw.pop("stack", "credit"), uri=registry, s3=aws.s3, cloudformation=aws.cf,
                   promoted_dir=aws.kept, **kw)


def _keys(aws, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_champion_is_uploaded_under_its_registry_version_and_tagged(registry, aws,
                                                                    trained_bundle):
    outputs = _stack(aws)
    result = _run(registry, aws)
    bucket = outputs["ModelBucketName"]
    assert result.version == "1" and result.model_prefix == "models/1/"
    assert _keys(aws, bucket) == sorted(f"models/1/{n}" for n in PUBLISHED_FILES)
    assert result.keys[len(PUBLISHED_FILES)] == outputs["ReferenceS3Uri"]
    assert result.keys[len(PUBLISHED_FILES) - 1].endswith(CARD_FILE)  # card last
    data_bucket = outputs["ReferenceS3Uri"].removeprefix("s3://").split("/")[0]
    # Beside the reference: the drift job's score baseline and fairness reference (card).
    assert _keys(aws, data_bucket) == ["reference/model_card.json", "reference/reference.csv.gz",
                                       "reference/reference_scores.json"]
    card = aws.s3.get_object(Bucket=data_bucket, Key="reference/model_card.json")["Body"]
    served = aws.s3.get_object(Bucket=bucket, Key=f"models/1/{CARD_FILE}")["Body"]
    assert card.read() == served.read()
    body = aws.s3.get_object(Bucket=bucket, Key=f"models/1/{MODEL_FILE}")["Body"].read()
    assert body == (trained_bundle / MODEL_FILE).read_bytes()
    # The golden set and card checked here are kept for the hook's build.
    kept = aws.kept / "1"
    assert result.hook_bundle == str(kept)
    assert sorted(p.name for p in kept.iterdir()) == [GOLDEN_FILE, CARD_FILE]
    assert (kept / GOLDEN_FILE).read_bytes() == (trained_bundle / GOLDEN_FILE).read_bytes()
    assert json.loads((kept / CARD_FILE).read_text())["model_version"] == "1"
    assert result.build == ("sam", "build")
    assert result.deploy == ("sam", "deploy", "--stack-name", "credit",
                             "--parameter-overrides", "ModelPrefix=models/1/")
    assert result.command == (f"HOOK_BUNDLE={kept} sam build && sam deploy --stack-name credit "
                              "--parameter-overrides ModelPrefix=models/1/")
    tags = MlflowClient(tracking_uri=registry).get_model_version(REGISTERED_MODEL, "1").tags
    assert tags[promote_mod.PROMOTED_AT_TAG] == result.promoted_at
    assert tags[promote_mod.PROMOTED_STACK_TAG] == "credit"


@pytest.mark.parametrize(("version", "message"), [
    (2, "model.onnx sha256 .* does not match the card's onnx_sha256"),
    (3, "input schema differs from the serving schema on 1 field\\(s\\): NAME_CONTRACT_TYPE"),
    (4, "does not record a passed parity check"),
    (9, "no version 9 of credit-default-champion in the MLflow registry"),
])
def test_unfit_models_are_refused_and_nothing_is_uploaded(registry, aws, version, message):
    outputs = _stack(aws)
    with pytest.raises(PromoteError, match=message):
        _run(registry, aws, version=version)
    assert _keys(aws, outputs["ModelBucketName"]) == []
    assert not aws.kept.exists()


def test_the_version_already_serving_is_refused(registry, aws):
    outputs = _stack(aws, model_prefix="models/1/")
    with pytest.raises(PromoteError, match="version 1 already serves stack 'credit'"):
        _run(registry, aws, alias="champion")
    assert _keys(aws, outputs["ModelBucketName"]) == []


def test_an_unknown_stack_or_alias_is_refused(registry, aws):
    with pytest.raises(PromoteError, match="stack 'nope' does not exist in this account"):
        _run(registry, aws, stack="nope")
    _stack(aws)
    with pytest.raises(PromoteError, match="no alias 'canary'"):
        _run(registry, aws, alias="canary")


def test_cli_prints_the_refusal(registry, aws, monkeypatch, capsys, tmp_path):
    _stack(aws, model_prefix="models/1/")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry)
    monkeypatch.chdir(tmp_path)
    from training.cli import main

    assert main(["promote", "--stack", "credit"]) == 1
    assert "promote refused: version 1 already serves stack 'credit'" in capsys.readouterr().out


@pytest.fixture
def sam(tmp_path, monkeypatch) -> Path:
    """A ``sam`` first on PATH that logs its arguments and HOOK_BUNDLE, and exits with
    $FAKE_SAM_<SUBCOMMAND>_EXIT (0 by default): the real one needs AWS to deploy."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sam.log"
    script = bin_dir / "sam"
    script.write_text(f"""#!/bin/sh
echo "$* HOOK_BUNDLE=$HOOK_BUNDLE" >> {log}
eval "exit \\${{FAKE_SAM_$(echo "$1" | tr a-z A-Z)_EXIT:-0}}"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_deploy_builds_the_hook_with_the_kept_golden_set_then_deploys(registry, aws, sam):
    _stack(aws)
    result = _run(registry, aws, deploy=True)
    assert sam.read_text().splitlines() == [
        f"build HOOK_BUNDLE={aws.kept / '1'}",
        f"deploy --stack-name credit --parameter-overrides ModelPrefix=models/1/ "
        f"HOOK_BUNDLE={aws.kept / '1'}"]
    assert result.promoted_at


def test_deploy_refuses_when_the_hook_build_fails(registry, aws, sam, monkeypatch):
    _stack(aws, model_prefix="models/0/")
    monkeypatch.setenv("FAKE_SAM_BUILD_EXIT", "2")
    client = MlflowClient(tracking_uri=registry)
    tags = client.get_model_version(REGISTERED_MODEL, "1").tags
    with pytest.raises(PromoteError, match=r"HOOK_BUNDLE=\S+/promoted/1 sam build failed "
                       r"\(exit 2\), so nothing was deployed: .* the stack still serves "
                       r"models/0/\. Fix the build, then run: HOOK_BUNDLE="):
        _run(registry, aws, version=1, deploy=True)
    assert [line.split()[0] for line in sam.read_text().splitlines()] == ["build"]
    assert client.get_model_version(REGISTERED_MODEL, "1").tags == tags  # not tagged


def test_cli_prints_the_build_and_deploy_line_with_the_kept_golden_set(registry, aws,
                                                                      monkeypatch, capsys,
                                                                      tmp_path):
    _stack(aws)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry)
    monkeypatch.chdir(tmp_path)
    from training.cli import main

    assert main(["promote", "--stack", "credit"]) == 0
    out = capsys.readouterr().out
    assert "kept its golden set and card in artifacts/promoted/1" in out
    assert ("serve it with:\n  HOOK_BUNDLE=artifacts/promoted/1 sam build && sam deploy "
            "--stack-name credit --parameter-overrides ModelPrefix=models/1/\n") in out
    assert (tmp_path / "artifacts" / "promoted" / "1" / GOLDEN_FILE).is_file()


# ------------------------------------------------------------------ set-up problems
def _cli(capsys, *args: str) -> tuple[int, str]:
    from training.cli import main

    status = main(["promote", "--stack", "credit", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return status, captured.out + captured.err


def test_an_empty_registry_says_to_train_first(no_aws_config, tmp_path, capsys):
    no_aws_config.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'fresh.db'}")
    no_aws_config.chdir(tmp_path)
    status, out = _cli(capsys)
    assert status == 1
    assert f"holds no {REGISTERED_MODEL} model yet" in out
    assert "run `make demo` or `make train` first" in out and "None" not in out


def test_no_region_is_one_sentence(registry, no_aws_config, tmp_path, capsys):
    no_aws_config.setenv("MLFLOW_TRACKING_URI", registry)
    no_aws_config.chdir(tmp_path)
    from contract.aws_errors import NO_REGION

    assert _cli(capsys) == (1, f"promote refused: {NO_REGION}\n")


def test_no_credentials_is_one_sentence(registry, no_aws_config, tmp_path, capsys):
    from contract.aws_errors import NO_CREDENTIALS

    no_aws_config.setenv("MLFLOW_TRACKING_URI", registry)
    no_aws_config.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    no_aws_config.chdir(tmp_path)
    assert _cli(capsys) == (1, f"promote refused: {NO_CREDENTIALS}\n")


def test_no_stack_is_one_sentence(registry, aws, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry)
    monkeypatch.chdir(tmp_path)
    status, out = _cli(capsys)
    assert status == 1
    assert out.startswith("promote refused: stack 'credit' does not exist in this account")
