"""GET /reference through the FastAPI app: aggregates only (>= MIN_BIN_ROWS rows per bin),
read on first use (from disk or S3), and a bundle without the file still scores."""

from __future__ import annotations

import json
import shutil

from fastapi.testclient import TestClient

from contract import schema
from contract.bundle import MIN_BIN_ROWS, REFERENCE_BINS_FILE
from scoring import reference as reference_mod
from scoring.api import create_app
from scoring.config import Settings
from scoring.reference import ReferenceResponse


def test_reference_is_aggregates_with_enough_rows_per_bin(client, trained_bundle) -> None:
    response = client.get("/reference")
    assert response.status_code == 200
    body = response.json()
    ReferenceResponse.model_validate(body)
    card = json.loads((trained_bundle / "model_card.json").read_text())
    assert set(body["features"]) == set(card["features"])
    assert schema.ID_FIELD not in body["features"]
    for name, entry in body["features"].items():
        groups = [*entry["bins"], *([entry["missing"]] if entry["missing"] else [])]
        assert all(g["rows"] >= MIN_BIN_ROWS and 0 <= g["default_rate"] <= 1 for g in groups)
        assert sum(g["rows"] for g in groups) + entry["suppressed_rows"] == body["rows"], name
        if entry["kind"] == "numeric" and entry["bins"]:
            assert entry["bins"][0]["low"] is None and entry["bins"][-1]["high"] is None
            edges = [b["low"] for b in entry["bins"][1:]]
            assert edges == sorted(edges) and len(set(edges)) == len(edges)


def test_reference_is_read_on_first_use_only(trained_bundle, tmp_path) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle, bundle)
    client = TestClient(create_app(Settings(model_dir=bundle)))
    assert client.get("/health").status_code == 200
    assert bundle not in reference_mod._cache
    assert client.get("/reference").status_code == 200
    assert bundle in reference_mod._cache


def test_bundle_without_reference_bins_still_scores(trained_bundle, tmp_path, apps) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle, bundle)
    (bundle / REFERENCE_BINS_FILE).unlink()
    client = TestClient(create_app(Settings(model_dir=bundle)))
    assert client.post("/predict", json=apps[0]).status_code == 200
    response = client.get("/reference")
    assert response.status_code == 503
    assert REFERENCE_BINS_FILE in response.json()["detail"][0]["msg"]


def test_reference_bins_come_from_s3_on_first_use(trained_bundle, moto_s3, tmp_path) -> None:
    from contract.bundle import SERVING_FILES

    moto_s3.create_bucket(Bucket="models")
    for name in (*SERVING_FILES, REFERENCE_BINS_FILE):
        moto_s3.upload_file(str(trained_bundle / name), "models", f"v1/{name}")
    client = TestClient(create_app(Settings(model_s3_uri="s3://models/v1")))
    directory = client.app.state.service.bundle().directory
    assert not (directory / REFERENCE_BINS_FILE).exists()
    response = client.get("/reference")
    assert response.status_code == 200
    assert response.content == (trained_bundle / REFERENCE_BINS_FILE).read_bytes()
