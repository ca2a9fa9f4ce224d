"""The golden set's expected answers are what the scoring function answers (the proof that
training's computation of them is the serving path), and promote's replay catches a bundle
that no longer reproduces them."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contract.bundle import CARD_FILE, GOLDEN_FILE
from scoring.api import create_app
from scoring.config import Settings
from training import golden


@pytest.fixture(scope="module")
def golden_set(trained_bundle: Path) -> dict:
    return json.loads((trained_bundle / GOLDEN_FILE).read_bytes())


def test_card_records_the_golden_sha256(trained_bundle: Path, golden_set: dict) -> None:
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    data = (trained_bundle / GOLDEN_FILE).read_bytes()
    assert card["golden_sha256"] == hashlib.sha256(data).hexdigest()
    assert card["golden"]["rows"] == len(golden_set["rows"]) == golden.GOLDEN_ROWS
    # The closest rows to the threshold are in: none of the hold-out is closer than them.
    assert golden_set["near_threshold"] == golden.NEAR_THRESHOLD_ROWS
    assert {r["decision"] for r in golden_set["rows"]} == {"approve", "decline"}


def test_serving_answers_exactly_the_golden_set(trained_bundle: Path, golden_set: dict) -> None:
    client = TestClient(create_app(Settings(model_dir=trained_bundle)))
    rows = golden_set["rows"]
    response = client.post(f"/predict/batch?reasons={golden.GOLDEN_REASONS}",
                           json={"applications": [r["application"] for r in rows]})
    assert response.status_code == 200
    served = response.json()["predictions"]
    for expected, got in zip(rows, served, strict=True):
        assert got["probability_default"] == expected["probability_default"]
        assert got["decision"] == expected["decision"]
        assert [r["fields"] for r in got["reasons"]] == [
            r["fields"] for r in expected["reasons"]]
        assert [r["values"] for r in got["reasons"]] == [r["values"] for r in expected["reasons"]]
        assert [r["statement"] for r in got["reasons"]] == [
            r["statement"] for r in expected["reasons"]]
        assert [r["direction"] for r in got["reasons"]] == [
            r["direction"] for r in expected["reasons"]]
        for a, b in zip(got["reasons"], expected["reasons"], strict=True):
            assert abs(a["contribution"] - b["contribution"]) <= 1e-9


def test_verify_passes_then_catches_a_changed_threshold(trained_bundle: Path,
                                                        tmp_path: Path) -> None:
    assert golden.verify(trained_bundle)["decisions_differing"] == 0
    copy = tmp_path / "bundle"
    shutil.copytree(trained_bundle, copy)
    card = json.loads((copy / CARD_FILE).read_text())
    rows = json.loads((copy / GOLDEN_FILE).read_bytes())["rows"]
    # A threshold just above the closest declined golden probability flips that decision.
    card["threshold"] = min(r["probability_default"] for r in rows
                            if r["decision"] == "decline") + 1e-12
    (copy / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(golden.GoldenError, match="1 decisions differ"):
        golden.verify(copy)


def test_verify_catches_an_altered_golden_file(trained_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(trained_bundle, copy)
    (copy / GOLDEN_FILE).write_bytes((copy / GOLDEN_FILE).read_bytes().replace(b"0.", b"1.", 1))
    with pytest.raises(golden.GoldenError, match="golden_sha256"):
        golden.verify(copy)
