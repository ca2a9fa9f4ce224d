"""contract.bundle: the bundle's file names and model-card keys, as training writes them and
serving and infra read them."""

from __future__ import annotations

import json
from typing import get_type_hints

from contract import bundle
from contract.bundle import (
    BUNDLE_FILES,
    CARD_FILE,
    REQUIRED_CARD_KEYS,
    SERVING_FILES,
    ModelCard,
)


def test_the_file_names():
    assert BUNDLE_FILES == ("model.onnx", "shap_paths.npz", "reference.csv.gz",
                            "reference_scores.json", "reference_bins.json", "golden_set.json",
                            "model_card.json")
    assert len(set(BUNDLE_FILES)) == len(BUNDLE_FILES)


def test_the_card_is_written_and_read_last():
    """A reader that sees the card can rely on every other file being in place."""
    assert BUNDLE_FILES[-1] == SERVING_FILES[-1] == CARD_FILE


def test_serving_loads_everything_but_the_drift_files_and_the_golden_set():
    """The reference bins are served too, but read on first use (optional: older bundles)."""
    assert set(BUNDLE_FILES) - set(SERVING_FILES) == {
        bundle.REFERENCE_FILE, bundle.REFERENCE_SCORES_FILE, bundle.REFERENCE_BINS_FILE,
        bundle.GOLDEN_FILE}
    assert set(bundle.DRIFT_FILES) == {bundle.REFERENCE_FILE, bundle.REFERENCE_SCORES_FILE}
    assert bundle.OPTIONAL_SERVING_FILES == (bundle.REFERENCE_BINS_FILE,)
    assert [f for f in BUNDLE_FILES if f in SERVING_FILES] == list(SERVING_FILES)


def test_the_model_prefix_holds_the_serving_files_and_the_golden_set_card_last():
    assert (*SERVING_FILES[:-1], bundle.REFERENCE_BINS_FILE, bundle.GOLDEN_FILE,
            CARD_FILE) == bundle.PUBLISHED_FILES


def test_required_card_keys_are_model_card_keys():
    keys = get_type_hints(ModelCard)
    assert set(REQUIRED_CARD_KEYS) <= set(keys)
    assert keys["threshold"] is float and keys["features"] == list[str]


def test_a_trained_bundle_has_exactly_the_files_and_the_required_keys(trained_bundle):
    assert sorted(p.name for p in trained_bundle.iterdir()) == sorted(BUNDLE_FILES)
    card = json.loads((trained_bundle / CARD_FILE).read_text())
    assert set(REQUIRED_CARD_KEYS) <= set(card)
    assert set(card) <= set(get_type_hints(ModelCard)), set(card) - set(
        get_type_hints(ModelCard))


def test_reference_scores_sit_beside_the_reference_sample():
    assert bundle.reference_scores_key("reference/reference.csv.gz") == (
        "reference/reference_scores.json")
    assert bundle.reference_scores_key("ref.csv.gz") == "reference_scores.json"
