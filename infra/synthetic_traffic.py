"""Synthetic scoring traffic, shared by the demo, the local drift run, the drift tests and
the benchmarks: applications valid under contract.schema, the capture records the scoring
function would write for them, a reference sample, and unseen applications from the training
generator wrapped in API Gateway /predict events.

Values are drawn per field from its kind, bounds and vocabulary: no real rows are involved.
``drifted=True`` shifts three fields by a wide margin (DRIFTED_FIELDS), so a report must flag
them; the other fields follow the same distributions in every sample.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from contract.capture_format import encode_capture, firehose_key
from contract.schema import FEATURE_FIELDS, TARGET_FIELD, Field
from infra.lambda_events import http_api_event, to_application

#: Fields that drifted=True moves: a numeric, a unit-interval and a categorical field.
DRIFTED_FIELDS = ("AMT_INCOME_TOTAL", "EXT_SOURCE_2", "NAME_CONTRACT_TYPE")

#: The decision threshold of the synthetic captures' "model" (they all score 0.1: approved).
THRESHOLD = 0.5


def _column(field: Field, n: int, rng: np.random.Generator, drifted: bool) -> list[Any]:
    if field.kind == "category":
        cats = field.categories
        weights = np.linspace(2.0, 1.0, len(cats))
        if drifted and field.name == "NAME_CONTRACT_TYPE":
            weights = weights[::-1] * np.array([1.0] + [8.0] * (len(cats) - 1))
        values: list[Any] = list(rng.choice(cats, size=n, p=weights / weights.sum()))
    else:
        lo = field.minimum if field.minimum is not None else 0.0
        hi = field.maximum
        if hi is None:  # money: log-normal
            scale = 3.0 if drifted and field.name in DRIFTED_FIELDS else 1.0
            x = rng.lognormal(11.8, 0.5, n) * scale
        elif hi - lo <= 1 and field.kind == "number":  # shares, scores
            x = rng.beta(2.0, 2.0, n) * (hi - lo) + lo
            if drifted and field.name in DRIFTED_FIELDS:
                x = np.clip(x + 0.35, lo, hi)
        elif hi - lo <= 30:  # flags, ratings, hours
            x = rng.integers(int(lo), int(hi) + 1, n).astype(float)
        elif lo < 0:  # days before the application
            x = rng.uniform(lo * 0.6, min(hi, 0), n)
        else:  # counts
            x = np.minimum(rng.poisson(2.0, n), hi).astype(float)
        integral = field.kind == "integer"
        values = [int(v) for v in np.rint(x)] if integral else [float(v) for v in x]
    if field.nullable:
        missing = rng.random(n) < 0.15
        values = [None if m else v for v, m in zip(values, missing, strict=True)]
    return values


def applications(n: int, seed: int = 0, drifted: bool = False) -> list[dict[str, Any]]:
    """``n`` applications (the 120 feature fields, JSON-ready values; None = missing)."""
    rng = np.random.default_rng(seed)
    columns = {f.name: _column(f, n, rng, drifted) for f in FEATURE_FIELDS}
    return [{name: columns[name][i] for name in columns} for i in range(n)]


def frame(apps: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(apps, columns=[f.name for f in FEATURE_FIELDS])


def reference_csv_gz(n: int, seed: int = 1) -> bytes:
    """A reference.csv.gz as training exports it: the 120 feature fields only."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(frame(applications(n, seed)).to_csv(index=False).encode("utf-8"))
    return buffer.getvalue()


def capture_records(
    apps: list[dict[str, Any]], when: datetime, model_version: str = "1"
) -> list[dict[str, Any]]:
    """Capture records as the scoring function writes them (contract.capture_format)."""
    return [
        {
            "captured_at": when.isoformat(),
            "request_id": f"req-{when:%Y%m%d%H%M%S}-{i}",
            "model_version": model_version,
            "client_id_hash": hashlib.sha256(f"{when.isoformat()}/{i}".encode()).hexdigest(),
            "probability": 0.1,
            "decision": "approve",
            "features": app,
        }
        for i, app in enumerate(apps)
    ]


_SERIAL = itertools.count()


def capture_key(when: datetime, prefix: str = "captures/") -> str:
    """A fresh key where Firehose would write an object delivered at ``when``."""
    return firehose_key(when, "captures-test", next(_SERIAL), prefix)


def put_captures(
    s3: Any, bucket: str, apps: list[dict[str, Any]], when: datetime, prefix: str = "captures/"
) -> str:
    """Write one capture object as Firehose delivers it: gzip JSON Lines, hourly prefix."""
    key = capture_key(when, prefix)
    body = gzip.compress(encode_capture(capture_records(apps, when)), mtime=0)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def synthetic_applications(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` request bodies from the training data generator (TARGET dropped,
    NaN -> null); a seed other than the training one gives applications the model never saw."""
    from training.synthetic import generate

    generated = generate(count, seed=seed).drop(columns=[TARGET_FIELD])
    return [to_application(row) for row in generated.to_dict("records")]


def predict_event(application: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API /predict event with this application as its body."""
    return http_api_event("POST", "/predict", application, route_key="POST /predict",
                          request_id=f"demo-{application['SK_ID_CURR']}")
