"""scoring.routes: the route table, the shared scoring path of /predict and /predict/batch,
and capture (buffered on the request path, sent later by the producer)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.lambda_events import reference_applications
from scoring import logs
from scoring.api import create_app
from scoring.config import Settings
from scoring.routes import BATCH, ROUTES, SINGLE, _decision_counts


@pytest.fixture(scope="module")
def client(trained_bundle: Path) -> TestClient:
    return TestClient(create_app(Settings(model_dir=trained_bundle)))


@pytest.fixture(scope="module")
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    return reference_applications(trained_bundle, 8)


def test_the_route_table() -> None:
    assert [(r.method, r.path, r.handler.__name__) for r in ROUTES] == [
        ("POST", "/predict", "predict"), ("POST", "/predict/batch", "predict_batch"),
        ("GET", "/health", "health"), ("GET", "/model", "model_card")]


def test_handlers_have_no_docstring() -> None:
    """FastAPI would publish a handler's docstring as its operation description."""
    assert [r.handler.__name__ for r in ROUTES if r.handler.__doc__] == []


def test_the_two_scoring_endpoints_differ_only_in_their_settings() -> None:
    settings = Settings(max_body_bytes=10, max_batch_body_bytes=20)
    assert (SINGLE.default_reasons, BATCH.default_reasons) == (4, 0)
    assert (SINGLE.body_limit(settings), BATCH.body_limit(settings)) == (10, 20)


def test_single_and_batch_answer_the_same_prediction(client, apps) -> None:
    batch = client.post("/predict/batch", params={"reasons": 4},
                        json={"applications": apps}).json()["predictions"]
    singles = [client.post("/predict", json=app).json() for app in apps]
    # onnxruntime's vectorised elementwise kernels (the graph's sigmoid) may round a row
    # scored alone one ulp away from the same row in a batch; the margin and all else match.
    assert [p.pop("probability_default") for p in singles] == pytest.approx(
        [p.pop("probability_default") for p in batch], rel=1e-14, abs=0)
    assert singles == batch


def _request_lines(client: TestClient, path: str, body: Any) -> dict[str, Any]:
    stream = io.StringIO()
    logs.set_stream(stream)
    try:
        assert client.post(path, json=body).status_code == 200
    finally:
        logs.set_stream(None)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()
               if json.loads(text)["event"] == "request"]
    return line


def test_the_log_line_carries_the_decisions(client, apps) -> None:
    single = _request_lines(client, "/predict", apps[0])
    assert single["n"] == 1 and single["reasons"] == 4
    assert single["decision"] in ("approve", "decline")
    batch = _request_lines(client, "/predict/batch", {"applications": apps})
    assert batch["n"] == len(apps) and batch["reasons"] == 0
    assert sum(batch["decisions"].values()) == len(apps)


def test_decision_counts() -> None:
    predictions: Any = [{"decision": d} for d in ("approve", "decline", "decline")]
    assert _decision_counts(predictions) == {"decisions": {"approve": 1, "decline": 2}}


def test_the_scoring_path_only_buffers_captures_and_logs_the_outcome(trained_bundle,
                                                                     apps) -> None:
    calls: list[Any] = []

    class Recording:
        def put_record_batch(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"FailedPutCount": 0, "RequestResponses": [{} for _ in kwargs["Records"]]}

    app = create_app(Settings(model_dir=trained_bundle, capture_stream="s",
                              capture_flush_s=3600), capture_client_factory=Recording)
    stream = io.StringIO()
    logs.set_stream(stream)
    try:
        response = TestClient(app).post("/predict/batch", json={"applications": apps})
    finally:
        logs.set_stream(None)
    assert response.status_code == 200 and calls == []
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()
               if json.loads(x)["event"] == "request"]
    assert line["capture"] == "buffered"
    producer = app.state.service.capture.producer
    assert producer.stats()["buffered"] == len(apps)
    assert producer.flush(5) and len(calls) == 1 and producer.stats()["sent"] == len(apps)
