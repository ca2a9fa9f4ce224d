"""POST /compare: two applications side by side, and what explains the gap between them.

The body is ``{"a": application, "b": application}``, validated like /predict (errors name
``a.FIELD`` / ``b.FIELD``). The answer holds both predictions with their reasons, the
probability and margin (log-odds) differences, the fields whose values differ, and, per
reason group (scoring.reasons.reason_group), the change in TreeSHAP contribution from a to
b. TreeSHAP contributions of a row sum to its margin, so the group deltas sum to the margin
difference (the expected value cancels); both are computed from the same contributions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from contract import schema
from scoring.model import Bundle
from scoring.reasons import reason_group
from scoring.request import (
    Application,
    Prediction,
    _check_duplicates,
    _validate,
    encode,
)
from scoring.service import score

_RESPONSE_CONFIG = ConfigDict(defer_build=True)


class CompareRequest(BaseModel):
    """Two applications to compare: the gap is reported from ``a`` to ``b``."""

    model_config = ConfigDict(extra="forbid")
    a: Application  # type: ignore[valid-type]
    b: Application  # type: ignore[valid-type]


class FieldDifference(BaseModel):
    model_config = _RESPONSE_CONFIG
    field: str
    a: float | int | str | None
    b: float | int | str | None


class GroupDelta(BaseModel):
    model_config = _RESPONSE_CONFIG
    group: str = Field(description="Reason group (the applicant field(s) it comes from).")
    features: list[str]
    contribution_a: float = Field(description="The group's contribution to a's log-odds.")
    contribution_b: float
    delta: float = Field(description="contribution_b - contribution_a (log-odds).")


class CompareResponse(BaseModel):
    model_config = _RESPONSE_CONFIG
    a: Prediction
    b: Prediction
    margin_a: float = Field(description="a's log-odds of default: the sum of its TreeSHAP "
                            "contributions and expected value.")
    margin_b: float
    margin_difference: float = Field(description="margin_b - margin_a; the groups' deltas "
                                     "sum to it.")
    probability_difference: float = Field(description="b's probability minus a's.")
    differing_fields: list[FieldDifference]
    groups: list[GroupDelta] = Field(description="Every group whose contribution changes, "
                                     "largest |delta| first.")


def parse_compare(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate a /compare body; returns the two applications' fields."""
    model = _validate(CompareRequest, body)
    a: dict[str, Any] = model.a.__dict__
    b: dict[str, Any] = model.b.__dict__
    distinct = 2 + len(model.a.model_fields_set) + len(model.b.model_fields_set)
    _check_duplicates(body, distinct, [a, b], batch=True)
    return a, b


def _differing(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"field": f.name, "a": a[f.name], "b": b[f.name]}
            for f in schema.FIELDS if a[f.name] != b[f.name]]


def _groups(phi: np.ndarray, names: tuple[str, ...]) -> list[dict[str, Any]]:
    members: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        members.setdefault(reason_group(name), []).append(j)
    groups: list[dict[str, Any]] = []
    for group, index in members.items():
        delta = math.fsum(phi[1, index].tolist()) - math.fsum(phi[0, index].tolist())
        if delta != 0.0:
            groups.append({"group": group, "features": [names[j] for j in index],
                           "contribution_a": math.fsum(phi[0, index].tolist()),
                           "contribution_b": math.fsum(phi[1, index].tolist()),
                           "delta": delta})
    groups.sort(key=lambda g: -abs(g["delta"]))
    return groups


def compare(bundle: Bundle, a: dict[str, Any], b: dict[str, Any], k: int) -> dict[str, Any]:
    """The /compare answer for two validated applications, with k reasons each."""
    prediction_a, prediction_b = score(bundle, [a, b], k)
    _, features = bundle.predict(encode([a, b]), with_features=True)
    assert features is not None
    contributions = bundle.explain(features)
    groups = _groups(contributions[:, : len(bundle.feature_names)], bundle.feature_names)
    margin_a, margin_b = (math.fsum(row) for row in contributions.tolist())
    return {
        "a": prediction_a,
        "b": prediction_b,
        "margin_a": margin_a,
        "margin_b": margin_b,
        "margin_difference": margin_b - margin_a,
        "probability_difference": (prediction_b["probability_default"]
                                   - prediction_a["probability_default"]),
        "differing_fields": _differing(a, b),
        "groups": groups,
    }
