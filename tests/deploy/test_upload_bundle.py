"""infra/upload_bundle.py against moto's S3: what lands where, and what is refused."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from infra.upload_bundle import (
    BundleUploadError,
    main,
    split_s3_uri,
    upload_bundle,
    uris_from_outputs,
)

MODEL_BUCKET = "credit-models"
DATA_BUCKET = "credit-data"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A bundle directory with the contract's four files (contents are opaque to upload)."""
    directory = tmp_path / "bundle"
    directory.mkdir()
    onnx = b"\x08\x07ONNX-graph-bytes" * 100
    (directory / "model.onnx").write_bytes(onnx)
    (directory / "shap_paths.npz").write_bytes(b"PK\x03\x04 npz bytes")
    card = {"model_version": "7", "onnx_sha256": hashlib.sha256(onnx).hexdigest()}
    (directory / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    (directory / "reference.csv.gz").write_bytes(gzip.compress(b"AMT_CREDIT\n1.0\n"))
    return directory


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        for name in (MODEL_BUCKET, DATA_BUCKET):
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        yield client


def _keys(client, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_uploads_serving_files_under_the_versioned_prefix_and_the_reference(bundle, s3):
    result = upload_bundle(
        bundle,
        f"s3://{MODEL_BUCKET}/models/{{version}}/",
        f"s3://{DATA_BUCKET}/reference/reference.csv.gz",
        s3_client=s3,
    )

    assert _keys(s3, MODEL_BUCKET) == [
        "models/7/model.onnx",
        "models/7/model_card.json",
        "models/7/shap_paths.npz",
    ]
    # Beside the reference: the card (the drift job's fairness reference).
    assert _keys(s3, DATA_BUCKET) == ["reference/model_card.json", "reference/reference.csv.gz"]
    for name in ("model.onnx", "model_card.json", "shap_paths.npz"):
        body = s3.get_object(Bucket=MODEL_BUCKET, Key=f"models/7/{name}")["Body"].read()
        assert body == (bundle / name).read_bytes()
    reference = s3.get_object(Bucket=DATA_BUCKET, Key="reference/reference.csv.gz")
    assert gzip.decompress(reference["Body"].read()) == b"AMT_CREDIT\n1.0\n"
    assert reference["ContentType"] == "application/gzip"
    card_head = s3.head_object(Bucket=MODEL_BUCKET, Key="models/7/model_card.json")
    assert card_head["ContentType"] == "application/json"

    assert result.model_version == "7"
    assert result.model_uri == f"s3://{MODEL_BUCKET}/models/7/"
    assert result.model_prefix == "models/7/"  # the template's ModelPrefix parameter
    # The card goes last, so a reader never sees a card whose model is not there yet.
    assert result.keys[2].endswith("model_card.json")
    assert result.keys[3] == f"s3://{DATA_BUCKET}/reference/reference.csv.gz"
    assert result.keys[4] == f"s3://{DATA_BUCKET}/reference/model_card.json"
    card = s3.get_object(Bucket=DATA_BUCKET, Key="reference/model_card.json")["Body"].read()
    assert card == (bundle / "model_card.json").read_bytes()


def test_a_model_that_does_not_match_its_card_is_not_uploaded(bundle, s3):
    (bundle / "model.onnx").write_bytes(b"tampered")
    with pytest.raises(BundleUploadError, match="does not match"):
        upload_bundle(bundle, f"s3://{MODEL_BUCKET}/m/", f"s3://{DATA_BUCKET}/r.csv.gz", s3)
    assert _keys(s3, MODEL_BUCKET) == []
    assert _keys(s3, DATA_BUCKET) == []


@pytest.mark.parametrize("name", ["model.onnx", "shap_paths.npz", "reference.csv.gz"])
def test_a_bundle_missing_a_file_is_refused_naming_it(bundle, s3, name):
    (bundle / name).unlink()
    with pytest.raises(BundleUploadError, match=name):
        upload_bundle(bundle, f"s3://{MODEL_BUCKET}/m/", f"s3://{DATA_BUCKET}/r.csv.gz", s3)
    assert _keys(s3, MODEL_BUCKET) == []


@pytest.mark.parametrize(
    ("model_uri", "reference_uri", "message"),
    [
        ("models/7/", f"s3://{DATA_BUCKET}/r.csv.gz", "not an s3:// URI"),
        (f"s3://{MODEL_BUCKET}/", f"s3://{DATA_BUCKET}/r.csv.gz", "needs a prefix"),
        (f"s3://{MODEL_BUCKET}/m/", f"s3://{DATA_BUCKET}/reference/", "must name an object"),
    ],
)
def test_bad_destinations_are_refused(bundle, s3, model_uri, reference_uri, message):
    with pytest.raises(BundleUploadError, match=message):
        upload_bundle(bundle, model_uri, reference_uri, s3)


def test_stack_outputs_give_the_destinations():
    outputs = {
        "ModelBucketName": "stack-modelbucket-abc",
        "ReferenceS3Uri": "s3://stack-databucket-def/reference/reference.csv.gz",
        "ApiUrl": "https://x.execute-api.eu-west-1.amazonaws.com/",
    }
    assert uris_from_outputs(outputs) == (
        "s3://stack-modelbucket-abc/models/{version}/",
        "s3://stack-databucket-def/reference/reference.csv.gz",
    )
    with pytest.raises(BundleUploadError, match="ModelBucketName"):
        uris_from_outputs({"ReferenceS3Uri": "s3://b/k"})


def test_split_s3_uri():
    assert split_s3_uri("s3://bucket/a/b.csv.gz") == ("bucket", "a/b.csv.gz")
    assert split_s3_uri("s3://bucket") == ("bucket", "")


def test_cli_uploads_and_prints_the_deploy_override(bundle, s3, capsys):
    code = main(
        [
            "--bundle", str(bundle),
            "--model-uri", f"s3://{MODEL_BUCKET}/models/{{version}}/",
            "--reference-uri", f"s3://{DATA_BUCKET}/reference/reference.csv.gz",
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "sam deploy --parameter-overrides ModelPrefix=models/7/" in out
    assert f"uploaded s3://{MODEL_BUCKET}/models/7/model.onnx" in out
    assert len(_keys(s3, MODEL_BUCKET)) == 3


def test_cli_reports_a_bad_bundle_without_a_traceback(tmp_path, s3, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--bundle", str(tmp_path), "--model-uri", "s3://b/m/", "--reference-uri", "s3://b/r"])
    assert exit_info.value.code == 1
    assert "lacks model.onnx" in capsys.readouterr().err


def test_a_golden_set_goes_under_the_prefix_before_the_card(bundle, s3):
    (bundle / "golden_set.json").write_text('{"rows": []}', encoding="utf-8")
    result = upload_bundle(bundle, f"s3://{MODEL_BUCKET}/models/{{version}}/",
                           f"s3://{DATA_BUCKET}/reference/reference.csv.gz", s3_client=s3)
    assert _keys(s3, MODEL_BUCKET) == [
        "models/7/golden_set.json", "models/7/model.onnx", "models/7/model_card.json",
        "models/7/shap_paths.npz"]
    assert [k.rsplit("/", 1)[1] for k in result.keys[:4]] == [
        "model.onnx", "shap_paths.npz", "golden_set.json", "model_card.json"]


def _refusal(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "Traceback" not in err
    return err


def test_cli_without_a_region_says_so(bundle, no_aws_config, capsys):
    from contract.aws_errors import NO_REGION

    err = _refusal(capsys, ["--bundle", str(bundle), "--stack", "credit"])
    assert err == f"upload_bundle: {NO_REGION}\n"


def test_cli_without_credentials_says_so(bundle, no_aws_config, capsys):
    from contract.aws_errors import NO_CREDENTIALS

    no_aws_config.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    err = _refusal(capsys, ["--bundle", str(bundle), "--model-uri", "s3://m/models/{version}/",
                            "--reference-uri", "s3://d/reference.csv.gz"])
    assert err == f"upload_bundle: {NO_CREDENTIALS}\n"


def test_cli_with_an_unknown_stack_says_so(bundle, moto_s3, capsys):
    err = _refusal(capsys, ["--bundle", str(bundle), "--stack", "nope"])
    assert err.startswith("upload_bundle: stack 'nope' does not exist in this account")
