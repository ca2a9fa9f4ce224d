"""Bundle loading: a missing, corrupt or mismatched model makes /health, /predict and /model
answer 503 with the reason (never a crash), and MODEL_S3_URI downloads the bundle."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from infra.lambda_events import FakeLambdaContext, http_api_event, reference_applications
from scoring import service
from scoring.api import create_app
from scoring.config import Settings
from scoring.model import SERVING_FILES, BundleError, load_bundle


def _copy(bundle: Path, target: Path) -> Path:
    shutil.copytree(bundle, target)
    return target


def _card(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "model_card.json").read_text())


def _write_card(directory: Path, card: dict[str, Any]) -> None:
    (directory / "model_card.json").write_text(json.dumps(card))


def _flip_bytes(directory: Path) -> None:
    data = bytearray((directory / "model.onnx").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    (directory / "model.onnx").write_bytes(bytes(data))


def _garbage_with_matching_hash(directory: Path) -> None:
    garbage = b"this is not an onnx model" * 100
    (directory / "model.onnx").write_bytes(garbage)
    card = _card(directory)
    card["onnx_sha256"] = hashlib.sha256(garbage).hexdigest()
    _write_card(directory, card)


def _edit_hash(directory: Path) -> None:
    card = _card(directory)
    card["onnx_sha256"] = "0" * 64
    _write_card(directory, card)


def _rescale_shap_leaves(directory: Path) -> None:
    path = directory / "shap_paths.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["path_value"] = arrays["path_value"] * 2.0
    np.savez(path, **arrays)


BREAKAGES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "model file missing": (lambda d: (d / "model.onnx").unlink(), "model.onnx not found"),
    "corrupted bytes": (_flip_bytes, "does not match the card's onnx_sha256"),
    "hash mismatch": (_edit_hash, "does not match the card's onnx_sha256"),
    "corrupt graph with matching hash": (_garbage_with_matching_hash,
                                         "model.onnx cannot be loaded"),
    "card missing": (lambda d: (d / "model_card.json").unlink(), "model_card.json not found"),
    "card not JSON": (lambda d: (d / "model_card.json").write_text("{oops"),
                      "model_card.json is unreadable"),
    "card without threshold": (lambda d: _write_card(
        d, {k: v for k, v in _card(d).items() if k != "threshold"}), "lacks ['threshold']"),
    "explainer missing": (lambda d: (d / "shap_paths.npz").unlink(),
                          "shap_paths.npz not found"),
    "explainer corrupt": (lambda d: (d / "shap_paths.npz").write_bytes(b"PK\x03\x04broken"),
                          "shap_paths.npz cannot be loaded"),
    "explainer of another model": (_rescale_shap_leaves,
                                   "shap_paths.npz does not match model.onnx"),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_broken_bundle_answers_503_with_the_reason(trained_bundle, tmp_path, case):
    breakage, reason = BREAKAGES[case]
    directory = _copy(trained_bundle, tmp_path / "model")
    breakage(directory)
    with pytest.raises(BundleError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        load_bundle(directory)
    client = TestClient(create_app(Settings(model_dir=directory)))
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert reason in health.json()["reason"]
    app = reference_applications(trained_bundle, 1)[0]
    for response in (client.post("/predict", json=app),
                     client.post("/predict/batch", json={"applications": [app]}),
                     client.get("/model")):
        assert response.status_code == 503
        assert reason in response.json()["detail"][0]["msg"]
        assert response.headers["retry-after"]


def test_missing_directory(tmp_path):
    client = TestClient(create_app(Settings(model_dir=tmp_path / "nowhere")))
    assert "does not exist" in client.get("/health").json()["reason"]


def test_broken_bundle_through_the_lambda_handler(trained_bundle, tmp_path):
    from scoring.handler import ScoringMangum

    directory = _copy(trained_bundle, tmp_path / "model")
    _flip_bytes(directory)
    handler = ScoringMangum(create_app(Settings(model_dir=directory)), lifespan="off")
    app = reference_applications(trained_bundle, 1)[0]
    response = handler(http_api_event("POST", "/predict", body=app), FakeLambdaContext())
    assert response["statusCode"] == 503
    assert "sha256" in json.loads(response["body"])["detail"][0]["msg"]
    response = handler(http_api_event("GET", "/health"), FakeLambdaContext())
    assert response["statusCode"] == 503


def test_a_repaired_bundle_is_picked_up_on_retry(trained_bundle, tmp_path, monkeypatch):
    directory = _copy(trained_bundle, tmp_path / "model")
    _edit_hash(directory)
    client = TestClient(create_app(Settings(model_dir=directory)))
    assert client.get("/health").status_code == 503
    shutil.copy(trained_bundle / "model_card.json", directory / "model_card.json")
    assert client.get("/health").status_code == 503  # not retried within RETRY_AFTER_S
    monkeypatch.setattr(service, "RETRY_AFTER_S", 0.0)
    assert client.get("/health").status_code == 200


def test_invalid_configuration_is_reported_not_raised(monkeypatch, trained_bundle):
    monkeypatch.setenv("MODEL_DIR", str(trained_bundle))
    monkeypatch.setenv("MAX_BODY_BYTES", "lots")
    health = TestClient(create_app()).get("/health")
    assert health.status_code == 503
    assert "MAX_BODY_BYTES" in health.json()["reason"]


def test_bundle_downloaded_from_s3(moto_s3, trained_bundle, tmp_path, monkeypatch):
    moto_s3.create_bucket(Bucket="models")
    for name in SERVING_FILES:
        moto_s3.upload_file(str(trained_bundle / name), "models", f"scoring/v7/{name}")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    client = TestClient(create_app(Settings(model_dir=tmp_path / "unused",
                                            model_s3_uri="s3://models/scoring/v7/")))
    health = client.get("/health")
    assert health.status_code == 200, health.json()
    assert health.json()["model_version"] == str(_card(trained_bundle)["model_version"])
    downloaded = [p for p in tmp_path.iterdir() if p.name.startswith("model-")]
    assert len(downloaded) == 1
    assert sorted(p.name for p in downloaded[0].iterdir()) == sorted(SERVING_FILES)
    app = reference_applications(trained_bundle, 1)[0]
    assert client.post("/predict", json=app).status_code == 200


def test_s3_download_failure_is_a_503(moto_s3, tmp_path, monkeypatch):
    moto_s3.create_bucket(Bucket="models")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    client = TestClient(create_app(Settings(model_s3_uri="s3://models/missing")))
    health = client.get("/health")
    assert health.status_code == 503
    assert "could not download s3://models/missing/model.onnx" in health.json()["reason"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("model-")]  # cleaned up
    client = TestClient(create_app(Settings(model_s3_uri="https://example.com/model")))
    assert "is not s3://bucket/prefix" in client.get("/health").json()["reason"]


def test_a_bundle_failing_the_probe_is_a_503_not_a_crash(trained_bundle, monkeypatch):
    """prime() (run at import) scores a probe application; if that raises, the import
    survives and the service reports 503 with the reason."""
    def broken_score(*args: Any, **kwargs: Any) -> Any:
        raise FloatingPointError("probe")

    app = create_app(Settings(model_dir=trained_bundle))
    monkeypatch.setattr(service, "score", broken_score)
    app.state.service.prime()
    health = TestClient(app).get("/health")
    assert health.status_code == 503
    assert "fails on a probe application: FloatingPointError" in health.json()["reason"]
