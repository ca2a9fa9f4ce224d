"""The golden set: test-split applications with the answers the bundle must give them.

``golden_set.json`` (contract.bundle.GOLDEN_FILE) holds about 200 applications of the
hold-out split (synthetic or real, as the run was; it lives only in the generated bundle),
including the ones whose probability is closest to the threshold, each as the JSON body a
client sends, with the expected ``probability_default``, ``decision`` and top reasons.

The expected values follow the serving path step for step: the bundle's own ONNX graph on
``schema.encode_records`` of the request bodies (the encoding serving uses), ``decision =
decline iff probability >= threshold``, and exact TreeSHAP contributions (LightGBM's
``pred_contrib``) turned into reasons by the serving code itself (contract.reasons: fields,
grouping, decision-dependent choice, statements). tests/functional/training/test_golden.py
proves them equal to what the scoring function answers. The pre-traffic hook replays the
set against a new function version before it takes traffic; ``verify`` replays it against
a bundle directory.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import onnxruntime as ort
import pandas as pd

from contract import schema
from contract.bundle import CARD_FILE, GOLDEN_FILE, MODEL_FILE
from contract.graph import FEATURES_OUTPUT, PROBABILITY_OUTPUT
from contract.reasons import ReasonPlan, reasons_for_rows

#: Applications in the golden set, and how many of them are the closest to the threshold.
GOLDEN_ROWS = 200
NEAR_THRESHOLD_ROWS = 50
#: Reasons recorded per application (the API's default for /predict).
GOLDEN_REASONS = 4
#: Largest |probability - expected| a serving version may show on a golden application.
PROBABILITY_TOLERANCE = 1e-9
FORMAT = 1


class GoldenError(Exception):
    """The golden set is missing, altered, or the bundle no longer reproduces it."""


def _json_value(field: schema.Field, value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if field.kind == "category":
        return str(value)
    if field.kind == "integer":
        return int(value)
    return float(value)


def applications(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Request bodies (SK_ID_CURR + the 120 fields, missing -> null) for frame's rows."""
    columns = {f.name: frame[f.name].tolist() for f in schema.FIELDS}
    return [{f.name: _json_value(f, columns[f.name][i]) for f in schema.FIELDS}
            for i in range(len(frame))]


def select(probability: np.ndarray, threshold: float, rows: int = GOLDEN_ROWS,
           near: int = NEAR_THRESHOLD_ROWS, seed: int = 0) -> np.ndarray:
    """Sorted row positions: the ``near`` closest to the threshold, the rest at random."""
    n = len(probability)
    if n <= rows:
        return np.arange(n)
    gap = np.abs(probability - threshold)
    closest = np.argsort(gap, kind="stable")[:near]
    others = np.setdiff1d(np.arange(n), closest)
    rng = np.random.default_rng(seed)
    picked = rng.choice(others, rows - len(closest), replace=False)
    return np.sort(np.concatenate([closest, picked]))


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model_bytes, sess_options=options,
                                providers=["CPUExecutionProvider"])


def score(model_bytes: bytes, apps: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """(probability [N], features [N, F]) of request bodies through the bundle's graph."""
    features, probability = _session(model_bytes).run(
        [FEATURES_OUTPUT, PROBABILITY_OUTPUT], schema.encode_records(apps))
    return np.asarray(probability, dtype=np.float64), np.asarray(features, dtype=np.float64)


def build(model_bytes: bytes, booster: lightgbm.Booster, holdout: pd.DataFrame,
          threshold: float, feature_names: list[str], seed: int = 0,
          card: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The golden set of a bundle, from its hold-out rows. ``card`` (labels, medians and
    protected attributes for the reasons) defaults to none: labels from contract.explain."""
    apps_all = applications(holdout)
    probability, _ = score(model_bytes, apps_all)
    chosen = select(probability, threshold, seed=seed)
    apps = [apps_all[i] for i in chosen]
    p, features = score(model_bytes, apps)
    contributions = np.asarray(booster.predict(features, pred_contrib=True), dtype=np.float64)
    explained = reasons_for_rows(contributions, apps, [bool(v >= threshold) for v in p],
                                 ReasonPlan.build(feature_names, card or {}), GOLDEN_REASONS)
    near = min(NEAR_THRESHOLD_ROWS, len(chosen)) if len(apps_all) > GOLDEN_ROWS else len(chosen)
    rows = [{
        "application": app,
        "probability_default": float(p[i]),
        "decision": "decline" if p[i] >= threshold else "approve",
        "reasons": explained[i]["reasons"],
    } for i, app in enumerate(apps)]
    gaps = np.sort(np.abs(p - threshold))
    return {
        "format": FORMAT,
        "source": "hold-out test split",
        "threshold": float(threshold),
        "reasons_per_application": GOLDEN_REASONS,
        "probability_tolerance": PROBABILITY_TOLERANCE,
        "near_threshold": int(near),
        "closest_gap": float(gaps[0]) if len(gaps) else None,
        "declines": sum(r["decision"] == "decline" for r in rows),
        "rows": rows,
    }


def dumps(golden: dict[str, Any]) -> bytes:
    """The file's bytes (floats round-trip exactly through JSON's repr)."""
    return (json.dumps(golden, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


def summary(golden: dict[str, Any], data: bytes) -> dict[str, Any]:
    """What the model card records about the golden set (its sha256 goes beside it)."""
    return {"file": GOLDEN_FILE, "rows": len(golden["rows"]),
            "near_threshold": golden["near_threshold"], "closest_gap": golden["closest_gap"],
            "declines": golden["declines"], "source": golden["source"],
            "sha256": hashlib.sha256(data).hexdigest()}


def verify(bundle: Path) -> dict[str, Any]:
    """Replay a bundle's golden set on its model.onnx; raises GoldenError on any mismatch."""
    card = json.loads((bundle / CARD_FILE).read_text(encoding="utf-8"))
    path = bundle / GOLDEN_FILE
    if not path.is_file():
        raise GoldenError(f"{GOLDEN_FILE} is missing from the bundle")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != card.get("golden_sha256"):
        raise GoldenError(f"{GOLDEN_FILE} does not match the card's golden_sha256")
    golden = json.loads(data)
    rows = golden["rows"]
    p, _ = score((bundle / MODEL_FILE).read_bytes(), [r["application"] for r in rows])
    expected = np.array([r["probability_default"] for r in rows], dtype=np.float64)
    diff = float(np.max(np.abs(p - expected))) if len(rows) else 0.0
    threshold = float(card["threshold"])
    decisions = ["decline" if x >= threshold else "approve" for x in p]
    differing = sum(d != r["decision"] for d, r in zip(decisions, rows, strict=True))
    if not diff <= PROBABILITY_TOLERANCE or differing:
        raise GoldenError(f"the model does not reproduce its golden set: max |dP| {diff:.3g}, "
                          f"{differing} decisions differ (threshold {threshold})")
    return {"rows": len(rows), "max_abs_diff_probability": diff, "decisions_differing": 0}
