"""Is what a bundle *serves* a probability? Score labelled applications through the Lambda
entry point (Mangum over the app, as API Gateway calls it) and compare the served
probability of default with the observed default rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mangum import Mangum

from contract import schema
from infra.lambda_events import http_api_event
from scoring.api import create_app
from scoring.config import Settings
from training import calibration, golden

BATCH = 1_000


def served(bundle: Path, frame: pd.DataFrame, reasons: int = 0) -> list[dict[str, Any]]:
    """The predictions the handler answers for ``frame``'s applications."""
    handler = Mangum(create_app(Settings(model_dir=bundle)), lifespan="off")
    apps = golden.applications(frame)
    out: list[dict[str, Any]] = []
    for start in range(0, len(apps), BATCH):
        body = {"applications": apps[start:start + BATCH]}
        event = http_api_event("POST", "/predict/batch", body, query={"reasons": str(reasons)})
        response = handler(event, None)
        assert response["statusCode"] == 200, response["body"][:500]
        out.extend(json.loads(response["body"])["predictions"])
    return out


def assert_served_calibrated(bundle: Path, frame: pd.DataFrame,
                             max_ece: float = calibration.DEFAULT_MAX_ECE) -> dict[str, Any]:
    """Fail unless the served probabilities of ``frame`` (labelled, unseen in training) have
    an ECE within ``max_ece`` and a mean inside the Jeffreys 95% interval of the observed
    default rate. Returns the figures."""
    p = np.array([row["probability_default"] for row in served(bundle, frame)])
    y = frame[schema.TARGET_FIELD].to_numpy(dtype=np.int64)
    low, high = calibration.jeffreys(int(y.sum()), len(y))
    figures = {"rows": len(y), "ece": calibration.ece(p, y), "mean_predicted": float(p.mean()),
               "observed_rate": float(y.mean()), "observed_jeffreys_95": (low, high)}
    assert figures["ece"] <= max_ece, f"served probabilities are miscalibrated: {figures}"
    assert low <= figures["mean_predicted"] <= high, (
        f"mean served probability outside the observed rate's interval: {figures}")
    return figures
