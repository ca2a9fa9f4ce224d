"""POST /compare: two applications side by side, and what explains the gap between them.

The body is ``{"a": application, "b": application}``, validated like /predict (errors name
``a.FIELD`` / ``b.FIELD``). The answer holds both predictions with their reasons, the
probability and margin (log-odds) differences, the fields whose values differ, and, per
reason group, the change in contribution from a to b. The groups are the reasons' units
(an applicant field, or a group of fields a person recognises) with the contributions the
reasons engine attributes to them (contract.reasons.group_contributions), so a group's
contribution is the one a reason for it carries. A row's group contributions sum exactly
to its TreeSHAP contributions, which sum to its margin with the expected value; that value
is the same for a and b, so the deltas sum to the margin difference. A group holding a
protected field (never a model input in a compliant bundle) is never shown: its
contributions, if any, go to one "other" group without fields, as /predict counts them in
``other_log_odds``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from contract import schema
from scoring.model import Bundle
from scoring.reasons import ReasonPlan, group_contributions
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
    group: str = Field(description="Reason group key: the applicant field, or the name of "
                       "the field group, a reason of /predict is made of.")
    label: str = Field(description="The group's readable name.")
    fields: list[str] = Field(description="The applicant fields in the group (empty for "
                              "'other').")
    contribution_a: float = Field(description="The group's contribution to a's log-odds: "
                                  "the contribution a reason for it carries.")
    contribution_b: float = Field(description="The group's contribution to b's log-odds.")
    delta: float = Field(description="contribution_b - contribution_a (log-odds).")


class CompareResponse(BaseModel):
    model_config = _RESPONSE_CONFIG
    a: Prediction
    b: Prediction
    margin_a: float = Field(description="a's log-odds of default: the sum of its TreeSHAP "
                            "contributions and expected value.")
    margin_b: float
    margin_difference: float = Field(description="margin_b - margin_a; the groups' deltas "
                                     "sum to it (the expected value is the same for both).")
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


OTHER_GROUP = "other"
OTHER_LABEL = "Other factors (not given as reasons)"


def _groups(by_unit: np.ndarray, plan: ReasonPlan) -> list[dict[str, Any]]:
    """Per reason unit (protected ones pooled into 'other'): contributions and delta, for
    every group whose contribution changes, largest |delta| first (ties: unit order)."""
    groups: list[dict[str, Any]] = []
    for u, key in enumerate(plan.unit_keys):
        if not plan.unit_banned[u]:
            groups.append({"group": key, "label": plan.unit_labels[u],
                           "fields": [plan.fields[i] for i in plan.unit_fields[u]],
                           "contribution_a": float(by_unit[0, u]),
                           "contribution_b": float(by_unit[1, u])})
    banned = np.flatnonzero(plan.unit_banned)
    groups.append({"group": OTHER_GROUP, "label": OTHER_LABEL, "fields": [],
                   "contribution_a": math.fsum(by_unit[0, banned].tolist()),
                   "contribution_b": math.fsum(by_unit[1, banned].tolist())})
    for g in groups:
        g["delta"] = g["contribution_b"] - g["contribution_a"]
    changed = [g for g in groups if g["delta"] != 0.0]
    changed.sort(key=lambda g: -abs(g["delta"]))
    return changed


def compare(bundle: Bundle, a: dict[str, Any], b: dict[str, Any], k: int) -> dict[str, Any]:
    """The /compare answer for two validated applications, with k reasons each."""
    prediction_a, prediction_b = score(bundle, [a, b], k)
    _, features = bundle.predict(encode([a, b]), with_features=True)
    assert features is not None
    contributions = bundle.explain(features)
    groups = _groups(group_contributions(contributions, [a, b], bundle.plan), bundle.plan)
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
