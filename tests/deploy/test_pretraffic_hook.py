"""The PreTraffic hook against the real scoring app (through Mangum, as Lambda runs it) and
moto's S3: it passes a sound version and fails, reporting Failed to CodeDeploy, on a
tampered bundle, a changed threshold, an altered golden set and a 503."""

from __future__ import annotations

import ast
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from mangum import Mangum

from contract.bundle import CARD_FILE, GOLDEN_FILE, PUBLISHED_FILES
from infra.hooks import pretraffic
from scoring.api import create_app
from scoring.config import Settings

BUCKET = "models"
PREFIX = "models/1/"
EVENT = {"DeploymentId": "d-ABC123", "LifecycleEventHookExecutionId": "hook-exec-1"}
ENV = {"TARGET_FUNCTION": "arn:aws:lambda:us-east-1:123456789012:function:scoring:7",
       "MODEL_BUCKET": BUCKET, "MODEL_PREFIX": PREFIX, "GOLDEN_FILE": GOLDEN_FILE,
       "CARD_FILE": CARD_FILE}


class InProcessLambda:
    """Lambda's Invoke API over the scoring handler, run in this process."""

    def __init__(self, model_dir: Path) -> None:
        self.handler = Mangum(create_app(Settings(model_dir=model_dir)), lifespan="off")
        self.calls: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        event = json.loads(Payload)
        self.calls.append({"function": FunctionName, "route": event["routeKey"]})
        response = self.handler(event, None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(response).encode())}


class CodeDeployRecorder:
    """Records PutLifecycleEventHookExecutionStatus (moto does not implement it)."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, str]] = []

    def put_lifecycle_event_hook_execution_status(self, **kw: str) -> dict[str, str]:
        self.statuses.append(kw)
        return {"lifecycleEventHookExecutionId": kw["lifecycleEventHookExecutionId"]}


@pytest.fixture
def s3(moto_s3, trained_bundle: Path):
    """The model bucket holding the trained bundle under models/1/ (as promote leaves it)."""
    moto_s3.create_bucket(Bucket=BUCKET)
    for name in PUBLISHED_FILES:
        moto_s3.put_object(Bucket=BUCKET, Key=PREFIX + name,
                           Body=(trained_bundle / name).read_bytes())
    return moto_s3


def _run(model_dir: Path, s3, env: dict[str, str] = ENV) -> tuple[dict, CodeDeployRecorder,
                                                                  InProcessLambda]:
    codedeploy, lam = CodeDeployRecorder(), InProcessLambda(model_dir)
    report = pretraffic.handle(EVENT, env, lam, s3, codedeploy)
    assert codedeploy.statuses == [{"deploymentId": "d-ABC123",
                                    "lifecycleEventHookExecutionId": "hook-exec-1",
                                    "status": report["status"]}]
    return report, codedeploy, lam


def _copy(trained_bundle: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "served"
    shutil.copytree(trained_bundle, copy)
    return copy


def test_a_sound_version_passes(trained_bundle, s3):
    report, _, lam = _run(trained_bundle, s3)
    assert report["status"] == "Succeeded"
    assert report["golden"] == {"rows": 200, "max_abs_diff_probability": 0.0,
                                "decisions_differing": 0, "mismatches": 0}
    assert {c["function"] for c in lam.calls} == {ENV["TARGET_FUNCTION"]}
    assert [c["route"] for c in lam.calls] == ["GET /health", "POST /predict/batch"]


def test_a_changed_threshold_fails(trained_bundle, s3, tmp_path):
    served = _copy(trained_bundle, tmp_path)
    card = json.loads((served / CARD_FILE).read_text())
    golden = json.loads((trained_bundle / GOLDEN_FILE).read_bytes())
    # Just above the lowest declined golden probability: exactly that decision flips.
    card["threshold"] = min(r["probability_default"] for r in golden["rows"]
                            if r["decision"] == "decline") + 1e-12
    (served / CARD_FILE).write_text(json.dumps(card))
    report, _, _ = _run(served, s3)
    assert report["status"] == "Failed"
    assert "1 of 200 applications differ" in report["error"]
    assert '"expected": "decline", "got": "approve"' in report["error"]


def test_a_tampered_model_fails(trained_bundle, s3, tmp_path):
    served = _copy(trained_bundle, tmp_path)
    (served / "model.onnx").write_bytes((served / "model.onnx").read_bytes() + b"\0")
    report, _, _ = _run(served, s3)
    assert report["status"] == "Failed"
    assert "/health answered 503" in report["error"]
    assert "does not match the card's onnx_sha256" in report["error"]


def test_a_different_model_with_a_consistent_card_fails(trained_bundle, s3, tmp_path):
    """A bundle swapped for another (self-consistent) model: probabilities differ."""
    import lightgbm

    from contract import schema
    from training.bundle import write_bundle
    from training.features import frame_features
    from training.synthetic import generate

    frame = generate(1_500, seed=11)
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 11, "num_threads": 1},
        lightgbm.Dataset(frame_features(frame.iloc[:1_000]),
                         label=frame[schema.TARGET_FIELD].to_numpy()[:1_000]),
        num_boost_round=20)
    other = tmp_path / "other"
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    write_bundle(other, booster, {k: card[k] for k in ("model_version", "costs", "schema")},
                 holdout=frame.iloc[1_000:], reference=frame.iloc[:200],
                 threshold=card["threshold"], probe_rows=200)
    report, _, _ = _run(other, s3)
    assert report["status"] == "Failed"
    assert "of 200 applications differ" in report["error"]


def test_an_altered_golden_set_in_the_bucket_fails(trained_bundle, s3):
    s3.put_object(Bucket=BUCKET, Key=PREFIX + GOLDEN_FILE, Body=b'{"rows": []}')
    report, _, lam = _run(trained_bundle, s3)
    assert report["status"] == "Failed"
    assert "does not match the card's golden_sha256" in report["error"]
    assert lam.calls == []


def test_a_503_fails(s3, tmp_path):
    report, _, _ = _run(tmp_path / "no-model", s3)
    assert report["status"] == "Failed"
    assert "/health answered 503: model directory" in report["error"]


def test_the_packaged_model_is_checked_by_health_only(trained_bundle, s3):
    report, _, lam = _run(trained_bundle, s3, {**ENV, "MODEL_PREFIX": ""})
    assert report["status"] == "Succeeded"
    assert report["golden"].startswith("skipped")
    assert [c["route"] for c in lam.calls] == ["GET /health"]


def test_the_hook_is_packaged_alone():
    """CodeUri infra/hooks/: the module imports the standard library and boto3 only."""
    tree = ast.parse(Path(pretraffic.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {"__future__", "hashlib", "json", "logging", "os", "time",
                        "collections", "typing", "boto3"}
