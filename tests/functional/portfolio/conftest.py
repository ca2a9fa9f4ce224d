"""Fixtures of the portfolio re-scoring tests: the test bundle loaded as the command loads
it, the scoring API's production Lambda handler over the same bundle (the oracle: what
/predict and /predict/batch answer), and a synthetic book."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from infra.lambda_events import FakeLambdaContext, http_api_event, response_json
from scoring.model import Bundle, load_bundle


@pytest.fixture(scope="module")
def bundle(trained_bundle: Path) -> Bundle:
    return load_bundle(trained_bundle)


@pytest.fixture(scope="module")
def handler(trained_bundle: Path) -> Any:
    """The scoring function's handler class (Mangum over the app), capture off."""
    from scoring.api import create_app
    from scoring.config import Settings
    from scoring.handler import ScoringMangum

    return ScoringMangum(create_app(Settings(model_dir=trained_bundle)), lifespan="off")


@pytest.fixture(scope="module")
def post(handler: Any) -> Callable[..., tuple[int, Any]]:
    """post(path, body, reasons) -> (status, JSON body), through the Lambda handler."""

    def call(path: str, body: str, reasons: int = 0) -> tuple[int, Any]:
        response = handler(http_api_event("POST", path, body=body,
                                          query={"reasons": str(reasons)}), FakeLambdaContext())
        return response["statusCode"], response_json(response)

    return call


@pytest.fixture(scope="module")
def synthetic_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 synthetic applications as CSV.gz (the generator's own columns, TARGET too)."""
    from training.synthetic import write_sample

    path = tmp_path_factory.mktemp("book") / "book.csv.gz"
    write_sample(path, 1_500, seed=11)
    return path


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str | None]]) -> Path:
    """A CSV with ``header``; None is an empty cell."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
