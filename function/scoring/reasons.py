"""Reason codes: the top-k TreeSHAP contributions of one scored application.

A reason names a model feature, shows its value, its contribution to the log-odds of
default, and whether it pushes towards decline ("increases_risk") or approval. Features are
ranked by |contribution|, largest first (ties: feature order); features contributing exactly
0 (unused by the trees for this row) are never listed, so fewer than k may come back.

Shown values: for a feature that is a request field, the request's raw value (the category
string for a categorical field, the raw 365243 for DAYS_EMPLOYED, null when missing); for an
engineered feature, its computed value (null when NaN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from scoring.shapes import ReasonBody

INCREASES: Final = "increases_risk"
DECREASES: Final = "decreases_risk"


def top_indices(contributions: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest |contributions| per row, largest first: int [N, k]."""
    magnitude = np.abs(contributions)
    k = min(k, magnitude.shape[1])
    if k < magnitude.shape[1]:
        candidates = np.argpartition(-magnitude, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(magnitude.shape[1]), magnitude.shape)
    # Order the k candidates: by |contribution| descending, then by feature index.
    picked = np.take_along_axis(magnitude, candidates, axis=1)
    order = np.lexsort((candidates, -picked), axis=1)
    return np.take_along_axis(candidates, order, axis=1)


def reasons_for_rows(
    contributions: np.ndarray,
    features: np.ndarray,
    apps: Sequence[Mapping[str, Any]],
    feature_names: Sequence[str],
    raw_fields: Sequence[str | None],
    k: int,
) -> list[list[ReasonBody]]:
    """Reasons for each row. ``contributions`` is [N, F+1] (TreeSHAP, last column expected
    value), ``features`` the [N, F] feature matrix, ``apps`` the validated applications."""
    if k <= 0:
        return [[] for _ in apps]
    phi = contributions[:, : len(feature_names)]
    index = top_indices(phi, k)
    values = np.take_along_axis(phi, index, axis=1).tolist()
    engineered = np.take_along_axis(features, index, axis=1).tolist()
    out: list[list[ReasonBody]] = []
    for row, app in enumerate(apps):
        reasons: list[ReasonBody] = []
        for j, contribution, computed in zip(index[row].tolist(), values[row], engineered[row],
                                             strict=True):
            if contribution == 0.0:
                continue
            raw = raw_fields[j]
            value = app[raw] if raw is not None else (
                computed if math.isfinite(computed) else None)
            reasons.append({
                "feature": feature_names[j],
                "value": value,
                "contribution": contribution,
                "direction": INCREASES if contribution > 0 else DECREASES,
            })
        out.append(reasons)
    return out


def reason_group(feature: str) -> str:
    """The reason group of a model feature: the unit in which reasons are reported and in
    which /compare splits the gap between two applicants. Each feature is its own group."""
    return feature
