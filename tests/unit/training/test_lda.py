"""The less-discriminatory-alternatives search (training/lda.py): the selection rule at its
edges, the frontier, proxy strength, candidate parameters, and a planted age proxy that the
search finds and drops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training import lda
from training.costs import Costs, best_threshold
from training.evaluate import make_folds
from training.models import search_champion


def _rows(*triples: tuple[float, float, float]) -> list[dict[str, float]]:
    return [{"cost": c, "auc": a, "ratio": r} for c, a, r in triples]


def test_rule_picks_the_highest_ratio_within_cost_and_auc_tolerance() -> None:
    rows = _rows((0.500, 0.750, 0.55),   # champion
                 (0.504, 0.748, 0.60),   # within both: chosen
                 (0.506, 0.760, 0.70),   # cost above +1%
                 (0.490, 0.744, 0.80))   # AUC more than 0.005 below
    choice = lda.choose(rows, 0, 0.01)
    assert choice.index == 1
    assert choice.eligible == (0, 1)
    assert "0.550 -> 0.600" in choice.reason
    assert lda.choose(rows, 0, 0.02).index == 2  # a wider tolerance admits row 2


def test_rule_ties_go_to_lower_cost_then_higher_auc_then_the_champion() -> None:
    rows = _rows((0.500, 0.750, 0.55), (0.503, 0.749, 0.60), (0.502, 0.747, 0.60))
    assert lda.choose(rows, 0, 0.01).index == 2          # equal ratio: lower cost
    rows = _rows((0.500, 0.750, 0.55), (0.502, 0.747, 0.60), (0.502, 0.749, 0.60))
    assert lda.choose(rows, 0, 0.01).index == 2          # and cost: higher AUC
    rows = _rows((0.500, 0.750, 0.60), (0.500, 0.750, 0.60), (0.499, 0.751, 0.60))
    choice = lda.choose(rows, 0, 0.01)                   # nobody beats the champion's ratio
    assert choice.index == 0
    assert "improves" in choice.reason
    rows = _rows((0.500, 0.750, 0.55), (0.501, 0.749, 0.60), (0.501, 0.749, 0.60))
    assert lda.choose(rows, 0, 0.01).index == 1          # a full tie: the earlier one


def test_rule_with_nothing_within_the_tolerance_keeps_the_champion() -> None:
    rows = _rows((0.500, 0.750, 0.55), (0.520, 0.760, 0.90), (0.480, 0.700, 0.90))
    choice = lda.choose(rows, 0, 0.01)
    assert (choice.index, choice.eligible) == (0, (0,))
    assert "no other candidate is within the tolerance" in choice.reason
    assert not choice.changed(0)
    assert lda.choose(rows[:1], 0, 0.01).index == 0      # the champion alone


def test_rule_at_tolerance_zero_keeps_the_champion_even_against_a_better_candidate() -> None:
    rows = _rows((0.500, 0.750, 0.55), (0.499, 0.749, 0.90))
    assert lda.choose(rows, 0, 0.001).index == 1
    choice = lda.choose(rows, 0, 0.0)
    assert choice.index == 0
    assert "tolerance 0" in choice.reason
    with pytest.raises(ValueError, match=">= 0"):
        lda.choose(rows, 0, -0.01)


def test_pareto_frontier_keeps_the_undominated_points_by_cost() -> None:
    rows = _rows((0.50, 0.75, 0.55), (0.51, 0.75, 0.60), (0.52, 0.75, 0.58),
                 (0.49, 0.75, 0.50), (0.51, 0.75, 0.60), (0.60, 0.75, float("nan")))
    # 2 is dominated by 1; 1 and 4 tie exactly (neither dominates); 5 has no ratio.
    assert lda.pareto(rows) == [3, 0, 1, 4]


def test_proxy_strength_is_the_direction_free_single_feature_auc() -> None:
    n = 200
    member = np.array(["<30"] * 60 + ["30-44"] * 140, dtype=object)
    rng = np.random.default_rng(0)
    x = np.column_stack([
        np.r_[np.zeros(60), np.ones(140)],          # separates perfectly, reversed
        rng.normal(size=n),                         # no signal
        np.r_[np.full(60, np.nan), np.ones(140)],   # missing only for the group
    ])
    strength = lda.proxy_strength(x, ["A", "B", "C"], {"age": member})
    assert strength["A"]["age"]["<30"] == 1.0
    assert strength["C"]["age"]["<30"] == 1.0
    assert 0.5 <= strength["B"]["age"]["<30"] < 0.6
    assert lda.strongest(strength, "age", "<30", 2) == ["A", "C"]


def test_candidate_parameters_follow_the_kept_columns() -> None:
    spec = lda.Spec("x", "monotone", {"num_leaves": 4}, dropped=("B",),
                    monotone={"C": -1}, gain={"A": 0.5})
    names = ("A", "B", "C", "D")
    assert spec.names(names) == ("A", "C", "D")
    assert spec.fit_params(names) == {"num_leaves": 4, "monotone_constraints": [0, -1, 0],
                                      "feature_contri": [0.5, 1.0, 1.0]}
    x = np.arange(8).reshape(2, 4)
    assert lda.columns(x, names, spec.names(names)).tolist() == [[0, 2, 3], [4, 6, 7]]


def _planted(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, list[str]]:
    """Risk follows two legitimate features (the first lower for the young); the planted
    feature is age plus noise and carries no risk of its own."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 68, n)
    legit_1 = rng.normal(size=n) + 0.9 * (age - 44) / 14
    legit_2 = rng.normal(size=n)
    planted = age + rng.normal(scale=3.0, size=n)
    noise = rng.normal(size=(n, 3))
    y = (rng.random(n) < 1 / (1 + np.exp(2.3 + 1.1 * legit_1 + 0.8 * legit_2))).astype(int)
    X = np.column_stack([legit_1, legit_2, planted, noise])
    frame = pd.DataFrame({"DAYS_BIRTH": -age * 365.25,
                          "CODE_GENDER": rng.choice(["F", "M"], n),
                          "NAME_FAMILY_STATUS": rng.choice(["Married", "Single / not married"],
                                                           n)})
    return X, y, frame, ["LEGIT_1", "LEGIT_2", "PLANTED_AGE", "NOISE_1", "NOISE_2", "NOISE_3"]


def test_a_planted_age_proxy_is_found_and_dropped(tmp_path: Path) -> None:
    X, y, frame, names = _planted(3_000, seed=3)
    folds = make_folds(y, 3, 0)
    costs = Costs()
    compliant = search_champion(X, y, folds, costs, trials=3, seed=0)
    settings = lda.Settings(tolerance=0.02, proxies=2, resamples=200, seed=0)
    result = lda.search(X, y, names, folds, frame, costs, compliant, settings)
    entry = result.entry

    assert entry["disadvantaged_group"] == "<30"
    assert entry["proxies"]["used"][0] == "PLANTED_AGE"           # found: the strongest
    assert result.changed
    assert "PLANTED_AGE" in result.chosen.spec.dropped             # and dropped
    assert "PLANTED_AGE" not in result.chosen_names()
    before, after = entry["choice"]["before"], entry["choice"]["after"]
    assert after["ratio"] > before["ratio"]
    assert after["cost_per_applicant"] <= before["cost_per_applicant"] * 1.02
    assert after["auc"] >= before["auc"] - lda.AUC_MARGIN

    # 3 trials + 2 drop-one + 1 cumulative + 2 gain penalties (+ monotone when defensible)
    assert len(entry["candidates"]) >= 8
    assert entry["frontier"] and set(entry["frontier"]) <= {c["name"] for c in
                                                            entry["candidates"]}
    champion = next(c for c in entry["candidates"] if c["champion"])
    assert champion["ratio"]["age"]["gain_vs_champion"] == 0.0
    for c in entry["candidates"]:
        r = c["ratio"]["age"]
        assert r["ci_low"] <= r["value"] <= r["ci_high"]
        # Each candidate calibrated as the champion is (its own Platt map): a probability.
        assert c["ece"] is not None and c["ece"] <= c["ece_uncalibrated"] + 1e-12

    # The champion handed to the pipeline is the chosen candidate, ready for its columns.
    champ = result.champion()
    assert champ.auc == result.chosen.auc and champ.threshold == result.chosen.choice.threshold
    assert lda.summary_lines(entry)[1].startswith("  choice: switched to ")
    picture = lda.plot(entry, tmp_path / "frontier.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_groups_too_small_for_a_ratio_leave_it_empty_and_the_champion_stays() -> None:
    rng = np.random.default_rng(1)
    n = 40  # every group under MIN_GROUP applicants
    y = (rng.random(n) < 0.3).astype(int)
    labels = {"age": rng.choice(["<30", "30-44"], n).astype(object)}
    candidates = []
    for name in ("champion", "other"):
        oof = rng.random(n)
        candidates.append(lda.Candidate(lda.Spec(name, "search_trial", {}), oof,
                                        0.5, best_threshold(y, oof, Costs())))
    lda.evaluate(candidates, y, labels, Costs(), 0, 50, 0)
    for c in candidates:
        assert c.report["ratio"]["age"]["value"] is None
        assert not any(g["in_ratio"] for g in c.report["approval_rate"]["age"].values())
        assert sum(g["applicants"] for g in c.report["approval_rate"]["age"].values()) == n
    rows = [lda.rule_row(c, "age") for c in candidates]
    choice = lda.choose(rows, 0, 0.5)
    assert choice.index == 0 and choice.eligible == (0,)
