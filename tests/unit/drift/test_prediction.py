"""drift.prediction: the score distribution and decline rate of a window against the
reference scores (PSI on the reference's deciles)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drift.prediction import load_scores, prediction_summary, psi


def test_same_scores_give_zero_psi_and_no_decline_change() -> None:
    reference = np.linspace(0.0, 0.5, 1_000)
    current = reference.copy()
    summary = prediction_summary(current, current >= 0.2, (reference, 0.2))
    assert summary["psi"] == pytest.approx(0.0, abs=1e-12)
    assert summary["decline_rate_change"] == pytest.approx(0.0)
    assert summary["current"]["decline_rate"] == summary["reference"]["decline_rate"]
    assert sum(summary["histogram"]["reference"]) == 1_000
    assert summary["histogram"]["edges"][0] == 0.0 and summary["histogram"]["edges"][-1] == 1.0


def test_shifted_scores_raise_psi_and_decline_rate() -> None:
    reference = np.linspace(0.0, 0.5, 1_000)
    current = np.linspace(0.3, 0.8, 500)
    summary = prediction_summary(current, current >= 0.2, (reference, 0.2))
    assert summary["psi"] > 0.25
    assert summary["current"]["decline_rate"] == 1.0
    assert summary["decline_rate_change"] == pytest.approx(1.0 - np.mean(reference >= 0.2))
    assert summary["current"]["quantiles"]["0.5"] == pytest.approx(0.55, abs=0.01)


def test_without_reference_only_the_window_is_described() -> None:
    summary = prediction_summary(np.array([0.1, 0.9]), np.array([False, True]), None)
    assert summary["reference"] is None and "psi" not in summary
    assert summary["current"]["decline_rate"] == 0.5
    empty = prediction_summary(np.empty(0), np.empty(0, dtype=bool), None)
    assert empty["current"]["rows"] == 0 and empty["current"]["decline_rate"] is None


def test_psi_floors_empty_bins() -> None:
    edges = np.array([0.0, 0.5, 1.0])
    assert np.isfinite(psi(np.array([0.1, 0.2]), np.array([0.7, 0.8]), edges))


def test_load_scores_checks_the_file() -> None:
    probabilities, threshold = load_scores(json.dumps(
        {"threshold": 0.3, "probabilities": [0.1, 0.4]}).encode())
    assert threshold == 0.3 and probabilities.tolist() == [0.1, 0.4]
    for bad in (b"{}", b"not json", json.dumps({"threshold": 0.3, "probabilities": []}).encode()):
        with pytest.raises(ValueError):
            load_scores(bad)
