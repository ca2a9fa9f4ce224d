"""Fixtures of the scoring function's functional tests: the app over the session's trained
bundle (as a FastAPI app, a TestClient and the production Lambda handler class), its model
card, valid applications from the bundle's reference sample, the JSON log lines, and a moto
Firehose stream behind the limits wrapper."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.lambda_events import reference_applications
from scoring import logs
from scoring.api import create_app
from scoring.config import Settings
from tests.firehose import LimitedFirehose, create_stream

#: Applications in ``apps``: enough for batches, few enough to read at once.
APPS = 60


@pytest.fixture(scope="module")
def scoring_app(trained_bundle: Path) -> FastAPI:
    """The scoring API over the test bundle, capture off."""
    return create_app(Settings(model_dir=trained_bundle))


@pytest.fixture(scope="module")
def client(scoring_app: FastAPI) -> TestClient:
    return TestClient(scoring_app)


@pytest.fixture(scope="module")
def handler(scoring_app: FastAPI) -> Any:
    """The production handler class (scoring.handler.ScoringMangum) over ``scoring_app``."""
    from scoring.handler import ScoringMangum

    return ScoringMangum(scoring_app, lifespan="off")


@pytest.fixture(scope="module")
def card(trained_bundle: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((trained_bundle / "model_card.json").read_text())
    return card


@pytest.fixture(scope="module")
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    """APPS valid applications (SK_ID_CURR 100001, ...); tests copy before changing one."""
    return reference_applications(trained_bundle, APPS)


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The scoring JSON log stream, captured: call it to get the lines written so far."""
    stream = io.StringIO()
    logs.set_stream(stream)

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    logs.set_stream(None)


@pytest.fixture
def stream(moto_s3) -> LimitedFirehose:
    """moto's Firehose (delivering to a moto bucket) behind the limits wrapper."""
    create_stream(boto3.client("firehose", region_name="us-east-1"), moto_s3)
    return LimitedFirehose(boto3.client("firehose", region_name="us-east-1"))
