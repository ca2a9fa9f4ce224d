"""The prediction part of the drift report: the served scores and decline rate of the window
against the reference's (the model's probabilities on training's hold-out rows, stored in the
bundle as contract.bundle.REFERENCE_SCORES_FILE: the drift image has no onnxruntime).

Drift of the score distribution is measured by the population stability index over the
reference's deciles (PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 large: the usual reading).
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import numpy as np

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class PredictionSummary(TypedDict, total=False):
    """The ``prediction`` part of the drift summary (comparisons only with reference scores)."""

    current: dict[str, Any]
    reference: dict[str, Any] | None
    decline_rate_change: float
    psi: float
    histogram: dict[str, list[float] | list[int]]
BINS = 10
#: Floor on a bin's share in the PSI (an empty bin would make it infinite).
PSI_FLOOR = 1e-4


def load_scores(body: bytes) -> tuple[np.ndarray, float]:
    """(probabilities, threshold) from a reference scores file; ValueError if malformed."""
    try:
        data = json.loads(body)
        probabilities = np.asarray(data["probabilities"], dtype=np.float64)
        threshold = float(data["threshold"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a reference scores file: {exc}") from exc
    if probabilities.ndim != 1 or not len(probabilities):
        raise ValueError("reference scores file holds no probabilities")
    return probabilities, threshold


def describe(probability: np.ndarray, declined: np.ndarray) -> dict[str, Any]:
    return {
        "rows": len(probability),
        "decline_rate": float(np.mean(declined)) if len(declined) else None,
        "mean_probability": float(np.mean(probability)) if len(probability) else None,
        "quantiles": ({str(q): float(v) for q, v in zip(
            QUANTILES, np.quantile(probability, QUANTILES), strict=True)}
            if len(probability) else None),
    }


def psi(reference: np.ndarray, current: np.ndarray, edges: np.ndarray) -> float:
    ref = np.maximum(np.histogram(reference, edges)[0] / len(reference), PSI_FLOOR)
    cur = np.maximum(np.histogram(current, edges)[0] / len(current), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def prediction_summary(probability: np.ndarray, declined: np.ndarray,
                       reference: tuple[np.ndarray, float] | None) -> PredictionSummary:
    """Score distribution and decline rate of the window, against the reference's if known."""
    summary: PredictionSummary = {"current": describe(probability, declined), "reference": None}
    if reference is None or not len(probability):
        return summary
    ref_p, threshold = reference
    edges = np.unique(np.quantile(ref_p, np.linspace(0, 1, BINS + 1)))
    edges[0], edges[-1] = 0.0, 1.0
    ref_rate = float(np.mean(ref_p >= threshold))
    summary["reference"] = {**describe(ref_p, ref_p >= threshold), "threshold": threshold}
    summary["decline_rate_change"] = summary["current"]["decline_rate"] - ref_rate
    summary["psi"] = psi(ref_p, probability, edges)
    summary["histogram"] = {"edges": edges.tolist(),
                            "reference": np.histogram(ref_p, edges)[0].tolist(),
                            "current": np.histogram(probability, edges)[0].tolist()}
    return summary
