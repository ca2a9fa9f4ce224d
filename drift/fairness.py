"""Decline rate by gender, age band and marital status on captured traffic, against the
reference.

Captured records carry the served decision, so no model is needed here (the drift image
has no onnxruntime). The reference rates are the model card's
``fairness.reference_decline_rates`` (out-of-fold decisions at the served threshold), read
from ``model_card.json`` beside the reference sample (contract.bundle.reference_card_key, or
REFERENCE_CARD_KEY) when it is there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from contract.explain import AGE_FIELD, fairness_groups
from contract.schema import CATEGORICAL_FIELDS, MISSING_CATEGORY, NUMERIC_FIELDS

log = logging.getLogger(__name__)


def reference_rates(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The reference decline rates by group of the card at ``key``, or None when
    unavailable."""
    try:
        card = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        rates = card["fairness"]["reference_decline_rates"]
    except Exception as exc:  # absent card, older card without fairness, unreadable JSON
        log.info("no reference decline rates at s3://%s/%s: %s", bucket, key,
                 type(exc).__name__)
        return None
    return rates if isinstance(rates, dict) else None


def group_labels(numeric: np.ndarray, categorical: np.ndarray) -> dict[str, np.ndarray]:
    """attribute -> group label per captured row (contract.explain.fairness_groups, the
    groups of the card's reference rates)."""

    def category(field: str) -> np.ndarray:
        column = categorical[:, CATEGORICAL_FIELDS.index(field)].astype(object)
        column[column == MISSING_CATEGORY] = None
        return column

    return fairness_groups(category, numeric[:, NUMERIC_FIELDS.index(AGE_FIELD)])


def decline_by_group(numeric: np.ndarray, categorical: np.ndarray, declined: np.ndarray,
                     reference: dict[str, Any] | None) -> dict[str, Any]:
    """Per attribute and group: applicants, current decline rate, reference rate and the
    difference (current - reference)."""
    out: dict[str, Any] = {}
    for attribute, labels in group_labels(numeric, categorical).items():
        ref = (reference or {}).get(attribute) or {}
        table = {}
        for group in sorted(set(labels.tolist()) | set(ref)):
            mask = labels == group
            n = int(mask.sum())
            rate = float(declined[mask].mean()) if n else None
            ref_rate = ref.get(group)
            table[str(group)] = {
                "applicants": n, "decline_rate": rate, "reference_decline_rate": ref_rate,
                "difference": (rate - ref_rate if rate is not None
                               and isinstance(ref_rate, int | float) else None)}
        out[attribute] = table
    return {"decline_rate_by_group": out,
            "reference": "model card (out-of-fold decisions)" if reference else None}
