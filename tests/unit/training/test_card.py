"""The model card builder (training/card.py): the schema entries with what the training data
showed, and the card the pipeline writes before export and registration."""

from __future__ import annotations

import json
from datetime import datetime
from typing import get_type_hints

import numpy as np
import pandas as pd
import pytest

from contract import schema
from contract.bundle import UNREGISTERED, ModelCard
from contract.explain import LABELS
from training.card import build_card, field_schema
from training.synthetic import generate


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate(400, seed=11)


def test_one_entry_per_request_field_in_schema_order(frame):
    entries = field_schema(frame, {})
    assert [e["name"] for e in entries] == [f.name for f in schema.FIELDS]
    for entry, field in zip(entries, schema.FIELDS, strict=True):
        facts = {k: v for k, v in entry.items()
                 if k not in ("label", "description", "observed")}
        assert facts == field.to_dict()
        assert entry["label"] == LABELS.get(field.name, "applicant id")


def test_observed_numeric_range_and_missing_rate():
    frame = generate(50, seed=3)
    frame["AMT_CREDIT"] = np.linspace(1_000.0, 50_000.5, 50)
    frame["EXT_SOURCE_1"] = [np.nan] * 10 + [0.25] * 40
    frame["CNT_CHILDREN"] = [0] * 49 + [4]
    by_name = {e["name"]: e for e in field_schema(frame, {})}
    assert by_name["AMT_CREDIT"]["observed"] == {"missing_rate": 0.0, "min": 1000,
                                                  "median": 25_500.25, "max": 50_000.5}
    assert by_name["EXT_SOURCE_1"]["observed"] == {"missing_rate": 0.2, "min": 0.25,
                                                    "median": 0.25, "max": 0.25}
    observed = by_name["CNT_CHILDREN"]["observed"]
    assert (observed["min"], observed["max"]) == (0, 4)
    assert type(observed["min"]) is int and type(observed["max"]) is int  # JSON integers


def test_observed_categories_are_those_seen_in_schema_order():
    frame = generate(50, seed=3)
    frame["CODE_GENDER"] = ["M"] * 30 + ["F"] * 20
    frame["NAME_TYPE_SUITE"] = [None] * 25 + ["Family"] * 25
    by_name = {e["name"]: e for e in field_schema(frame, {})}
    assert by_name["CODE_GENDER"]["observed"] == {"missing_rate": 0.0,
                                                  "categories": ["F", "M"]}
    assert by_name["NAME_TYPE_SUITE"]["observed"] == {"missing_rate": 0.5,
                                                      "categories": ["Family"]}


def test_an_all_missing_column_has_null_bounds():
    frame = generate(20, seed=3)
    frame["OWN_CAR_AGE"] = np.nan
    (entry,) = [e for e in field_schema(frame, {}) if e["name"] == "OWN_CAR_AGE"]
    assert entry["observed"] == {"missing_rate": 1.0, "min": None, "median": None,
                                 "max": None}


def test_descriptions_are_attached_and_default_to_the_label(frame):
    entries = field_schema(frame, {"AMT_CREDIT": "Credit amount of the loan"})
    by_name = {e["name"]: e for e in entries}
    assert by_name["AMT_CREDIT"]["description"] == "Credit amount of the loan"
    assert by_name["AMT_ANNUITY"]["description"] == LABELS["AMT_ANNUITY"] != ""


def test_the_entries_are_plain_json(frame):
    entries = field_schema(frame, {})
    assert json.loads(json.dumps(entries, allow_nan=False)) == entries


def test_build_card():
    entries = [{"name": "SK_ID_CURR"}]
    card = build_card(
        fingerprint={"sha256": "ab" * 32, "rows": 5000, "columns": 122},
        costs={"fn": 10, "fp": 1},
        threshold=np.float64(0.0915),
        metrics={"test_auc": 0.715},
        candidates={"dummy": {"cv_auc": 0.5}},
        hyperparameters={"num_leaves": 31},
        training={"rows": 4000, "folds": 5},
        field_entries=entries,
        registered_model="credit-scoring",
    )
    assert card["model_version"] == UNREGISTERED
    assert card["registered_model"] == {"name": "credit-scoring", "alias": "champion",
                                        "version": None}
    assert card["costs"] == {"fn": 10.0, "fp": 1.0}
    assert all(type(v) is float for v in card["costs"].values())
    assert type(card["threshold"]) is float and card["threshold"] == 0.0915
    assert card["decision"] == "decline iff probability >= threshold"
    assert card["schema"] is entries
    assert card["data_fingerprint"]["rows"] == 5000
    created = datetime.fromisoformat(card["created_at"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert set(card) <= set(get_type_hints(ModelCard))
    assert json.loads(json.dumps(card, allow_nan=False)) == card
