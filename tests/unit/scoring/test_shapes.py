"""scoring.shapes: the TypedDicts of the response bodies agree with the documented Pydantic
models and with real responses, and the request path never imports them."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from infra.lambda_events import reference_applications
from scoring import capture, request, shapes
from scoring.config import Settings
from scoring.service import Service, score

SCORING_DIR = Path(shapes.__file__).resolve().parent

PAIRS: list[tuple[Any, type[BaseModel]]] = [
    (shapes.PredictionBody, request.Prediction),
    (shapes.ReasonBody, request.Reason),
    (shapes.BatchResponseBody, request.BatchResponse),
    (shapes.HealthBody, request.Health),
    (shapes.CaptureHealth, request.CaptureStats),
]


@pytest.mark.parametrize(("typed", "model"), PAIRS, ids=[m.__name__ for _, m in PAIRS])
def test_each_body_has_the_keys_of_its_documented_model(typed, model) -> None:
    assert set(typed.__required_keys__) == set(model.model_fields)


def test_capture_counts_are_the_counters_capture_keeps() -> None:
    assert set(shapes.CaptureCounts.__required_keys__) == set(capture.empty_stats())


def _validate(typed: Any, value: Any) -> None:
    TypeAdapter(typed).validate_python(value, strict=True)


def test_real_bodies_validate_against_the_typed_dicts(trained_bundle) -> None:
    service = Service(Settings(model_dir=trained_bundle))
    apps = reference_applications(trained_bundle, 10)
    predictions = score(service.bundle(), apps, 5)
    _validate(shapes.BatchResponseBody, {"predictions": predictions})
    assert any(p["reasons"] for p in predictions)
    _validate(shapes.HealthBody, service.health()[1])
    with pytest.raises(ValueError):
        _validate(shapes.PredictionBody, {**predictions[0], "decision": "maybe"})


def test_the_request_path_imports_shapes_for_type_checking_only() -> None:
    """Every import of scoring.shapes sits under ``if TYPE_CHECKING:``."""
    for path in sorted(SCORING_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        guarded = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for node in ast.walk(block)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "scoring.shapes":
                assert id(node) in guarded, f"{path.name} imports scoring.shapes at run time"
