"""contract.outcome_stats against independent computations (scipy, scikit-learn, the DeLong
structural components written out pair by pair)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from contract import outcome_stats as st


def test_beta_cdf_and_quantile_match_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.5, 500, 60), rng.uniform(0.5, 20_000, 60)
    x, q = rng.uniform(0, 1, 60), rng.uniform(0.001, 0.999, 60)
    np.testing.assert_allclose(st.beta_cdf(x, a, b), stats.beta.cdf(x, a, b), atol=1e-11)
    np.testing.assert_allclose(st.beta_ppf(q, a, b), stats.beta.ppf(q, a, b), rtol=1e-9)


def test_jeffreys_interval_and_p_value():
    d, n = np.array([0, 3, 150, 2999, 3000]), np.full(5, 3000)
    low, high = st.jeffreys_interval(d, n)
    np.testing.assert_allclose(low[1:], stats.beta.ppf(0.025, d[1:] + 0.5, n[1:] - d[1:] + 0.5),
                               rtol=1e-9)
    np.testing.assert_allclose(high[:-1], stats.beta.ppf(0.975, d[:-1] + 0.5,
                                                         n[:-1] - d[:-1] + 0.5), rtol=1e-9)
    assert low[0] == 0.0 and high[-1] == 1.0
    assert float(st.jeffreys_p_value(150, 3000, 0.05)) == pytest.approx(
        stats.beta.cdf(0.05, 150.5, 2850.5), abs=1e-12)


def _delong_by_pairs(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """AUC and DeLong variance from the structural components, pair by pair."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(psi.mean()), float(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))


def test_delong_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.2).astype(int)
    s = np.round(rng.random(400) + 0.4 * y, 1)  # coarse: many ties
    aucs, cov = st.delong(y, s)
    auc, variance = _delong_by_pairs(y, s)
    assert aucs[0] == pytest.approx(auc, abs=1e-12) == pytest.approx(roc_auc_score(y, s))
    assert cov[0, 0] == pytest.approx(variance, rel=1e-10)
    ci = st.auc_ci(y, s)
    assert ci["gini"] == pytest.approx(2 * auc - 1)
    assert ci["ci_high"] - ci["ci_low"] == pytest.approx(2 * 1.959964 * variance ** 0.5, rel=1e-6)


def test_paired_delong_sees_a_difference_and_none_between_equal_scores():
    rng = np.random.default_rng(2)
    y = (rng.random(3000) < 0.1).astype(int)
    good, weak = rng.random(3000) + y, rng.random(3000) + 0.3 * y
    paired = st.paired_delong(y, good, weak)
    assert paired["difference"] > 0.1 and paired["p_value"] < 1e-6
    same = st.paired_delong(y, good, good)
    assert same["difference"] == 0.0 and same["p_value"] == 1.0


def test_ks_brier_and_bands():
    rng = np.random.default_rng(3)
    y = (rng.random(1000) < 0.3).astype(int)
    p = np.clip(rng.random(1000) * 0.5 + 0.3 * y, 0, 1)
    assert st.ks(y, p) == pytest.approx(stats.ks_2samp(p[y == 1], p[y == 0]).statistic)
    assert st.brier(y, p) == pytest.approx(brier_score_loss(y, p))
    bands = st.calibration_bands(y, p)
    assert [b["band"] for b in bands] == list(range(1, 11))
    assert sum(b["loans"] for b in bands) == 1000 and sum(b["defaults"] for b in bands) == y.sum()
    assert all(b["loans"] == 100 for b in bands)
    assert [b["predicted"] for b in bands] == sorted(b["predicted"] for b in bands)


def test_min_detectable_drop_is_the_power_calculation():
    """Simulated (binormal scores): a drop of that size is detected in about 80% of
    cohorts of that size by the one-sided DeLong test at 5%."""
    from statistics import NormalDist

    drop = st.min_detectable_drop(0.75, 150, 2850)
    se = st.hanley_mcneil_se(0.75, 150, 2850)
    assert drop == pytest.approx((1.644854 + 0.841621) * se, rel=1e-5)
    assert st.min_detectable_drop(0.75, 600, 11400) < drop / 1.9  # four times the loans
    rng = np.random.default_rng(4)
    shift = 2 ** 0.5 * NormalDist().inv_cdf(0.75 - drop)
    y = np.r_[np.ones(150, int), np.zeros(2850, int)]
    detected = 0
    for _ in range(400):
        s = rng.standard_normal(3000) + shift * y
        ci = st.auc_ci(y, s)
        detected += st.auc_below_reference(ci["auc"], ci["se"], 0.75)["p_value"] < 0.05
    assert 0.72 <= detected / 400 <= 0.88
