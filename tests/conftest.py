"""Fixtures shared by every area. Tests that need the real Home Credit samples use
`real_data_dir`; each area's own fixtures live in its folder's conftest.py."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "home-credit"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """../shared/data/home-credit/ beside the checkout; skips, saying so, when absent."""
    if not (REAL_DATA_DIR / "application_train_sample.csv").is_file():
        pytest.skip(
            f"real Home Credit samples not found at {REAL_DATA_DIR} "
            "(put application_train_sample.csv etc. there to run this test)"
        )
    return REAL_DATA_DIR


@pytest.fixture(scope="session")
def trained_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model bundle (model.onnx, card, shap paths, reference) trained on synthetic data."""
    import lightgbm

    from contract import schema
    from contract.explain import DEFAULT_PROTECTED
    from training.bundle import write_bundle
    from training.card import field_schema
    from training.costs import Costs
    from training.features import frame_features, model_features
    from training.synthetic import generate

    frame = generate(4_000, seed=7)
    train, holdout = frame.iloc[:3_000], frame.iloc[3_000:]
    names = model_features()  # the default protected attributes left out
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 15, "learning_rate": 0.1, "verbose": -1, "seed": 7,
         "num_threads": 1},
        lightgbm.Dataset(frame_features(train, names), label=train[schema.TARGET_FIELD].to_numpy(),
                         feature_name=list(names)),
        num_boost_round=60,
    )
    card = {
        "model_version": "test",
        "costs": Costs().to_dict(),
        "metrics": {},
        "protected_attributes": list(DEFAULT_PROTECTED),
        "schema": field_schema(train, {}),
    }
    output = tmp_path_factory.mktemp("bundle") / "model"
    write_bundle(output, booster, card, holdout=holdout, reference=train.iloc[:1_000],
                 threshold=0.2)
    return output


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch):
    """An S3 client on moto (us-east-1) with fake credentials: AWS is never really reached."""
    import boto3
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture(scope="module")
def lambda_entry(trained_bundle: Path) -> ModuleType:
    """The scoring function's entry module (scoring.handler) imported afresh, as Lambda
    imports it at a cold start: MODEL_DIR = the test bundle, capture and S3 loading off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MODEL_DIR", str(trained_bundle))
        for name in ("CAPTURE_STREAM", "MODEL_S3_URI", "CAPTURE_HASH_KEY"):
            mp.delenv(name, raising=False)
        return importlib.reload(importlib.import_module("scoring.handler"))


#: --class-weight choices the calibration tests force (the search may draw either).
FORCED_CLASS_WEIGHTS = {"balanced": ("balanced",), "unweighted": (None,)}


@pytest.fixture(scope="session")
def calibrated_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bundles of two small end-to-end ``train`` runs on synthetic data, one whose search is
    forced to balanced class weights and one forced to none: the served probability must be
    calibrated either way."""
    from training.costs import Costs
    from training.pipeline import TrainConfig, train

    tmp = tmp_path_factory.mktemp("calibrated")
    bundles = {}
    for name, weights in FORCED_CLASS_WEIGHTS.items():
        result = train(TrainConfig(
            output=tmp / name, rows=4000, seed=3, folds=3, trials=2, bootstrap=200,
            tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", progress=False, costs=Costs(10, 1),
            compare_protected=False, class_weights=weights))
        bundles[name] = result.output
    return bundles


@pytest.fixture
def no_aws_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A machine with no AWS set-up at all: no region, no credentials, no config files, no
    instance metadata (tests then set what their case needs)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch
