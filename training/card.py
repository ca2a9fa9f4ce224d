"""Model card assembly (the bundle's model_card.json, before the bundle adds its part).

The card's shape is ``contract.bundle.ModelCard``. ``training.bundle.write_bundle`` adds
features, onnx_sha256, parity, probe and threshold; the pipeline sets ``model_version`` to
the MLflow registry version after registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from contract import schema
from contract.bundle import UNREGISTERED, ModelCard
from contract.explain import LABELS

__all__ = ["UNREGISTERED", "build_card", "field_schema"]


def _number(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)


def field_schema(frame: pd.DataFrame, descriptions: Mapping[str, str]) -> list[dict[str, Any]]:
    """The 121 request fields: schema facts plus what the training data showed.

    Each entry: name, type, nullable, categories (category fields) or minimum/maximum (the
    bounds the API enforces), ``label`` (the project's short plain-language label, used in
    reason statements), ``description`` (the official column description where training
    found one, else the label), and ``observed``: min/median/max (numeric) or the
    categories seen (category), and the missing rate.
    """
    entries = []
    for f in schema.FIELDS:
        entry = f.to_dict()
        entry["label"] = LABELS.get(f.name, "applicant id")
        entry["description"] = descriptions.get(f.name) or entry["label"]
        column = frame[f.name]
        observed: dict[str, Any] = {"missing_rate": float(column.isna().mean())}
        if f.kind == "category":
            counts = column.value_counts()
            observed["categories"] = [str(c) for c in f.categories if c in counts.index]
        else:
            values = pd.to_numeric(column, errors="coerce")
            observed["min"] = _number(values.min())
            observed["median"] = _number(values.median())
            observed["max"] = _number(values.max())
        entry["observed"] = observed
        entries.append(entry)
    return entries


def build_card(
    *,
    fingerprint: Mapping[str, Any],
    costs: Mapping[str, float],
    threshold: float,
    metrics: Mapping[str, Any],
    candidates: Mapping[str, Any],
    hyperparameters: Mapping[str, Any],
    training: Mapping[str, Any],
    field_entries: list[dict[str, Any]],
    registered_model: str,
) -> ModelCard:
    """The card as the pipeline knows it before export and registration."""
    return {
        "model_version": UNREGISTERED,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_type": "LightGBM binary classifier on training.features (exported to ONNX)",
        "registered_model": {"name": registered_model, "alias": "champion", "version": None},
        "data_fingerprint": dict(fingerprint),
        "costs": {k: float(v) for k, v in costs.items()},
        "threshold": float(threshold),
        "decision": "decline iff probability >= threshold",
        "metrics": dict(metrics),
        "candidates": dict(candidates),
        "hyperparameters": dict(hyperparameters),
        "training": dict(training),
        "schema": field_entries,
    }
