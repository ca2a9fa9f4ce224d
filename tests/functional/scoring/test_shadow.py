"""Shadow challenger: the response is always the champion's, captures carry both results,
and a challenger that cannot load or score is logged, counted and shown by /health without
touching any response. Real bundles, the real app, moto S3 and Firehose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from contract.bundle import CARD_FILE, SERVING_FILES
from contract.capture_format import decode_capture
from infra.lambda_events import reference_applications
from scoring import request, shapes
from scoring.api import create_app
from scoring.config import Settings
from tests.firehose import STREAM, LimitedFirehose, create_stream

MODELS, CAPTURES = "models", "captures"
#: Producers of the apps a test made: flushed before its captures are read.
PRODUCERS: list[Any] = []


@pytest.fixture(autouse=True)
def fresh_producers():
    PRODUCERS.clear()
    yield


@pytest.fixture
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    return reference_applications(trained_bundle, 40)


@pytest.fixture
def s3(moto_s3, trained_bundle: Path, tmp_path: Path):
    """The trained bundle as challenger v2 (its threshold halved, so some decisions differ)."""
    moto_s3.create_bucket(Bucket=MODELS)
    create_stream(boto3.client("firehose", region_name="us-east-1"), moto_s3, bucket=CAPTURES)
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    card.update(model_version="2", threshold=card["threshold"] / 2)
    for name in SERVING_FILES:
        body = json.dumps(card).encode() if name == CARD_FILE else (
            trained_bundle / name).read_bytes()
        moto_s3.put_object(Bucket=MODELS, Key=f"challenger/{name}", Body=body)
    return moto_s3


def _client(bundle: Path, s3: Any, challenger: str | None, capture_on: bool = True
            ) -> TestClient:
    settings = Settings(model_dir=bundle, challenger_model_s3_uri=challenger,
                        capture_stream=STREAM if capture_on else None,
                        capture_hash_key=b"k", capture_flush_s=3600)
    app = create_app(settings, capture_client_factory=lambda: LimitedFirehose(
        boto3.client("firehose", region_name="us-east-1")))
    if app.state.service.capture is not None:
        PRODUCERS.append(app.state.service.capture.producer)
    return TestClient(app)


def _records(s3) -> list[dict[str, Any]]:
    for producer in PRODUCERS:
        assert producer.flush(10)
    out = []
    for item in s3.list_objects_v2(Bucket=CAPTURES).get("Contents", []):
        out += decode_capture(s3.get_object(Bucket=CAPTURES, Key=item["Key"])["Body"].read())
    return out


def _bodies(client: TestClient, apps: list[dict[str, Any]]) -> list[bytes]:
    single = client.post("/predict?reasons=3", json=apps[0])
    batch = client.post("/predict/batch?reasons=2", json={"applications": apps})
    assert single.status_code == batch.status_code == 200
    return [single.content, batch.content]


def test_the_response_is_the_champions_and_captures_carry_both(trained_bundle, s3, apps):
    plain = _bodies(_client(trained_bundle, s3, None, capture_on=False), apps)
    shadowed = _client(trained_bundle, s3, f"s3://{MODELS}/challenger/")
    assert _bodies(shadowed, apps) == plain
    records = _records(s3)
    assert len(records) == 1 + len(apps)
    threshold = json.loads((trained_bundle / CARD_FILE).read_text())["threshold"]
    for record in records:
        shadow = record["challenger"]
        assert shadow["model_version"] == "2"
        assert shadow["probability"] == record["probability"]  # same graph, other threshold
        assert shadow["decision"] == ("decline" if shadow["probability"] >= threshold / 2
                                      else "approve")
    differing = sum(r["challenger"]["decision"] != r["decision"] for r in records)
    assert differing > 0
    health = shadowed.get("/health").json()
    TypeAdapter(shapes.HealthBody).validate_python(health, strict=True)
    assert health["challenger"] == {
        "source": f"s3://{MODELS}/challenger/", "status": "ok", "model_version": "2",
        "reason": None, "scored": 1 + len(apps), "failed": 0, "disagreements": differing}


def test_a_challenger_that_cannot_load_changes_nothing_but_health(trained_bundle, s3, apps):
    plain = _bodies(_client(trained_bundle, s3, None, capture_on=False), apps)
    shadowed = _client(trained_bundle, s3, f"s3://{MODELS}/missing/")
    assert _bodies(shadowed, apps) == plain
    assert {json.dumps(r["challenger"]) for r in _records(s3)} == {"null"}
    health = shadowed.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    challenger = health.json()["challenger"]
    assert challenger["status"] == "unavailable" and challenger["model_version"] is None
    assert "could not download s3://models/missing/model.onnx" in challenger["reason"]


def test_a_challenger_that_fails_to_score_changes_nothing(trained_bundle, s3, apps,
                                                          tmp_path):
    """A challenger whose graph loads but whose scoring raises on every request."""
    plain = _bodies(_client(trained_bundle, s3, None, capture_on=False), apps)
    shadowed = _client(trained_bundle, s3, f"s3://{MODELS}/challenger/")
    challenger = shadowed.app.state.service.challenger
    loaded = challenger.bundle()
    assert loaded is not None

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("onnxruntime exploded")

    object.__setattr__(loaded, "predict", broken)
    assert _bodies(shadowed, apps) == plain
    assert [r["challenger"] for r in _records(s3)] == [None] * (1 + len(apps))
    health = shadowed.get("/health").json()["challenger"]
    assert health["failed"] == 2 and health["scored"] == 0
    assert health["reason"] == "scoring failed: RuntimeError: onnxruntime exploded"


def test_without_capture_the_challenger_still_scores_and_logs(trained_bundle, s3, apps):
    shadowed = _client(trained_bundle, s3, f"s3://{MODELS}/challenger/", capture_on=False)
    _bodies(shadowed, apps)
    assert shadowed.get("/health").json()["challenger"]["scored"] == 1 + len(apps)
    assert _records(s3) == []


def test_health_without_a_challenger_says_null(trained_bundle, s3):
    body = _client(trained_bundle, s3, None).get("/health").json()
    assert body["challenger"] is None


def test_the_challenger_health_shape_matches_its_documented_model():
    assert set(shapes.ChallengerHealth.__required_keys__) == set(
        request.ChallengerStats.model_fields)


def test_the_challenger_is_off_unless_its_s3_uri_is_set():
    from scoring.config import load_settings

    settings = load_settings({"CHALLENGER_MODEL_S3_URI": "s3://b/p/"})
    assert settings.challenger_model_s3_uri == "s3://b/p/"
    assert load_settings({}).challenger_model_s3_uri is None
