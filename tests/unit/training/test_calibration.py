"""training.calibration: the Platt fit, the map folded into a booster, and the checks."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
from scipy.stats import beta

from training import calibration as calib


def _labels(p: np.ndarray, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random(len(p)) < p).astype(np.int64)


def test_fit_platt_recovers_a_known_map() -> None:
    rng = np.random.default_rng(0)
    margin = rng.normal(-1.0, 1.5, 200_000)
    y = _labels(calib.sigmoid(0.6 * margin - 1.2), 1)
    platt = calib.fit_platt(calib.sigmoid(margin), y)
    assert platt.a == pytest.approx(0.6, abs=0.02)
    assert platt.b == pytest.approx(-1.2, abs=0.03)
    # At the maximum-likelihood fit, the mean calibrated probability is the observed rate.
    assert np.mean(platt.probability(calib.sigmoid(margin))) == pytest.approx(y.mean(), abs=1e-9)


def test_fit_platt_of_a_constant_score_only_moves_the_level() -> None:
    y = np.array([0, 0, 0, 1] * 50)
    platt = calib.fit_platt(np.full(len(y), 0.5), y)
    assert platt.probability(0.5) == pytest.approx(0.25)


@pytest.mark.parametrize("y", [np.zeros(10), np.ones(10), np.zeros(0)])
def test_fit_platt_needs_both_outcomes(y: np.ndarray) -> None:
    with pytest.raises(calib.CalibrationError, match="both outcomes"):
        calib.fit_platt(np.linspace(0.1, 0.9, len(y)), y)


def test_a_decreasing_map_is_refused() -> None:
    with pytest.raises(calib.CalibrationError, match="not strictly increasing"):
        calib.Platt(-0.5, 0.0)


def test_ece_by_hand() -> None:
    # Bin [0.1, 0.2): predictions 0.1, 0.1 with outcomes 0, 1 -> |0.2 - 1| / 4 ...
    p = np.array([0.1, 0.1, 0.95, 0.95])
    y = np.array([0, 1, 1, 1])
    # bin 1: predicted sum 0.2, observed 1 -> 0.8; bin 9: predicted 1.9, observed 2 -> 0.1
    assert calib.ece(p, y) == pytest.approx((0.8 + 0.1) / 4)
    assert calib.ece(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0  # 1.0 is in the last bin
    # Weights are bootstrap counts: weight 2 is the row twice.
    w = np.array([2.0, 1.0, 1.0, 0.0])
    assert calib.ece(p, y, weights=w) == pytest.approx(
        calib.ece(np.array([0.1, 0.1, 0.1, 0.95]), np.array([0, 0, 1, 1])))


def test_jeffreys_is_the_beta_quantiles_and_closed_at_the_ends() -> None:
    low, high = calib.jeffreys(8, 100)
    assert (low, high) == pytest.approx((beta.ppf(0.025, 8.5, 92.5), beta.ppf(0.975, 8.5, 92.5)),
                                        rel=1e-12)
    assert calib.jeffreys(0, 50)[0] == 0.0
    assert calib.jeffreys(50, 50)[1] == 1.0


def test_assess_flags_a_miscalibrated_score_and_passes_a_calibrated_one() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(1, 11, 20_000)
    y = _labels(p, 4)
    good = calib.assess(p, y, resamples=100, seed=0)
    assert good["mean_within_jeffreys"]
    assert good["ece"]["value"] < 0.01
    assert good["ece"]["ci_low"] <= good["ece"]["value"] <= good["ece"]["ci_high"]
    assert len(good["reliability"]) == calib.RELIABILITY_BINS
    assert sum(r["n"] for r in good["reliability"]) == len(p)
    assert sum(r["within"] for r in good["reliability"]) >= 8
    bad = calib.assess(np.minimum(1.0, 4 * p), y, resamples=100, seed=0)  # odds x ~4
    assert not bad["mean_within_jeffreys"]
    assert bad["ece"]["ci_low"] > 0.1
    assert sum(r["within"] for r in bad["reliability"]) <= 2


def test_check_limit_names_the_figure() -> None:
    calib.check_limit(0.0199, 0.02)
    with pytest.raises(calib.CalibrationError, match=r"error 0\.0312 is above the limit 0\.0200"):
        calib.check_limit(0.0312, 0.02)


@pytest.fixture(scope="module")
def weighted_booster() -> tuple[lightgbm.Booster, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4_000, 6))
    y = _labels(calib.sigmoid(X[:, 0] - 2.5 + 0.7 * X[:, 1]), 6)
    model = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=7, class_weight="balanced",
                                    verbose=-1, n_jobs=1).fit(X, y)
    return model.booster_, X, y


def test_the_map_folded_into_the_booster_is_the_map(weighted_booster) -> None:
    booster, X, y = weighted_booster
    raw = booster.predict(X)
    platt = calib.fit_platt(raw, y)
    folded = calib.calibrated_booster(booster, platt)
    assert np.abs(folded.predict(X) - platt.probability(raw)).max() < 1e-12
    assert np.abs(folded.predict(X, raw_score=True)
                  - platt.log_odds(booster.predict(X, raw_score=True))).max() < 1e-12
    # Balanced weights inflate the odds; the folded booster serves the observed rate.
    assert raw.mean() > 3 * y.mean()
    assert folded.predict(X).mean() == pytest.approx(y.mean(), abs=1e-9)
    assert booster.predict(X) == pytest.approx(raw)  # the original is untouched


def test_reasons_scale_by_a_and_the_base_absorbs_b(weighted_booster) -> None:
    booster, X, y = weighted_booster
    platt = calib.fit_platt(booster.predict(X), y)
    before = booster.predict(X, pred_contrib=True)
    after = calib.calibrated_booster(booster, platt).predict(X, pred_contrib=True)
    assert np.abs(after[:, :-1] - platt.a * before[:, :-1]).max() < 1e-12
    assert np.abs(after[:, -1] - (platt.a * before[:, -1] + platt.b)).max() < 1e-12


def test_the_identity_map_leaves_the_booster_bit_identical(weighted_booster) -> None:
    booster, X, _ = weighted_booster
    copy = calib.calibrated_booster(booster, calib.IDENTITY)
    assert np.array_equal(copy.predict(X, raw_score=True), booster.predict(X, raw_score=True))


def test_a_separable_two_value_score_is_refused_not_crashed() -> None:
    # Two distinct scores that separate the outcomes perfectly: no finite maximum.
    p = np.array([0.2] * 50 + [0.3] * 50)
    y = np.array([0] * 50 + [1] * 50)
    with pytest.raises(calib.CalibrationError):
        calib.fit_platt(p, y)
