"""The pandas-stack handler: the baseline of benchmarks/bench_serving.py.

FastAPI + Mangum like ours, but the way the reference project served: pandas, scikit-learn,
lightgbm and shap imported at cold start, a pickled sklearn
``Pipeline(OneHotEncoder + LGBMClassifier)`` unpickled, and per request a one-row pandas
DataFrame, ``predict_proba`` and a fresh ``shap.TreeExplainer``. Timing only: the pipeline is
trained in a temp dir by :func:`build_pipeline` (on the bundle's reference rows with a
synthetic target, or synthetic rows), never shipped.

Cold start of this module = its import (with PANDAS_STACK_PIPELINE pointing at the pickle)
+ the first ``handler(event, context)`` call.
"""

from __future__ import annotations

import argparse
import os
import pickle  # nosec B403: only loads the pickle this module wrote in a temp dir
from pathlib import Path
from typing import Any

import lightgbm  # noqa: F401  (the reference project imported it all at cold start)
import numpy as np
import pandas as pd
import shap
from fastapi import FastAPI, Request
from mangum import Mangum
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from contract import schema

FEATURES = [f.name for f in schema.FEATURE_FIELDS]
THRESHOLD = 0.5


def _frame(bundle_dir: Path | None, rows: int, seed: int) -> pd.DataFrame:
    reference = bundle_dir / "reference.csv.gz" if bundle_dir else None
    if reference is not None and reference.is_file():
        frame = pd.read_csv(reference)[FEATURES]
        if len(frame) >= 200:
            return frame
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for f in schema.FEATURE_FIELDS:
        if f.kind == "category":
            data[f.name] = rng.choice(list(f.categories), rows)
        else:
            low = f.minimum if f.minimum is not None else 0.0
            high = f.maximum if f.maximum is not None else 1e6
            values = rng.uniform(low, min(high, low + 1e6), rows)
            data[f.name] = np.round(values) if f.kind == "integer" else values
    return pd.DataFrame(data)


def build_pipeline(bundle_dir: Path | None, workdir: Path, n_estimators: int = 300,
                   rows: int = 5_000, seed: int = 0) -> Path:
    """Train and pickle the pandas-stack pipeline into ``workdir``; returns the pickle path."""
    from lightgbm import LGBMClassifier

    frame = _frame(bundle_dir, rows, seed)
    rng = np.random.default_rng(seed)
    ext = frame[["EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"]].mean(axis=1).fillna(0.5)
    target = (rng.uniform(size=len(frame)) < 1 / (1 + np.exp(8 * (ext - 0.35)))).astype(int)
    pipeline = Pipeline([
        ("encode", ColumnTransformer(
            [("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
              list(schema.CATEGORICAL_FIELDS))],
            remainder="passthrough",
        )),
        ("model", LGBMClassifier(n_estimators=n_estimators, num_leaves=31, learning_rate=0.05,
                                 verbose=-1)),
    ])
    pipeline.fit(frame[FEATURES], target)
    path = Path(workdir) / "pandas_stack_pipeline.pkl"
    path.write_bytes(pickle.dumps(pipeline))
    return path


def _load() -> Pipeline | None:
    path = os.environ.get("PANDAS_STACK_PIPELINE")
    if not path:
        return None
    return pickle.loads(Path(path).read_bytes())  # nosec B301: our own temp-dir pickle


pipeline = _load()
app = FastAPI(title="pandas-stack scoring")


@app.post("/predict")
async def predict(request: Request) -> dict[str, Any]:
    if pipeline is None:
        raise RuntimeError("PANDAS_STACK_PIPELINE is not set: no pipeline to score with")
    payload = await request.json()
    frame = pd.DataFrame([payload])[FEATURES]
    encoded = pipeline[:-1].transform(frame)
    probability = float(pipeline[-1].predict_proba(encoded)[0, 1])
    explainer = shap.TreeExplainer(pipeline[-1])  # per request, as the reference project did
    values = np.asarray(explainer.shap_values(encoded))
    row = values[-1] if values.ndim == 3 else values
    row = np.asarray(row).reshape(-1)
    names = pipeline[:-1].get_feature_names_out()
    top = np.argsort(-np.abs(row))[:4]
    return {
        "client_id": payload.get("SK_ID_CURR"),
        "probability_default": probability,
        "decision": "decline" if probability >= THRESHOLD else "approve",
        "reasons": [{"feature": str(names[j]), "contribution": float(row[j])} for j in top],
    }


handler = Mangum(app, lifespan="off")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Build the pandas-stack pipeline pickle.")
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    print(build_pipeline(args.bundle, args.workdir))
