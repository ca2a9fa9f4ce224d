"""Protected attributes never reach the model (directly or through an engineered feature),
and the fairness table's arithmetic."""

from __future__ import annotations

import lightgbm
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from contract import explain, schema
from training import export, fairness, features
from training.features import FEATURE_NAMES, frame_features, model_features
from training.synthetic import generate


def test_default_model_features_leave_out_gender_and_age():
    names = model_features()
    assert "CODE_GENDER" not in names
    assert set(FEATURE_NAMES) - set(names) == {"CODE_GENDER", "DAYS_BIRTH", "EMPLOYED_AGE_RATIO"}
    assert set(FEATURE_NAMES) - set(model_features(("CODE_GENDER",))) == {"CODE_GENDER"}
    assert list(names) == [n for n in FEATURE_NAMES if n in names]  # graph order kept


def test_engineered_features_of_a_protected_field_are_left_out_too():
    assert set(FEATURE_NAMES) - set(model_features(("DAYS_BIRTH",))) == {
        "DAYS_BIRTH", "EMPLOYED_AGE_RATIO"}
    assert set(FEATURE_NAMES) - set(model_features(("EXT_SOURCE_2",))) == {
        "EXT_SOURCE_2", "EXT_SOURCE_MEAN", "EXT_SOURCE_MIN", "EXT_SOURCE_MAX",
        "EXT_SOURCE_COUNT"}
    assert set(FEATURE_NAMES) - set(model_features(("AMT_CREDIT",))) == {
        "AMT_CREDIT", "CREDIT_ANNUITY_RATIO", "CREDIT_INCOME_RATIO", "CREDIT_GOODS_RATIO"}
    with pytest.raises(ValueError, match="not applicant fields"):
        model_features(("SEX",))


def test_contract_sources_match_the_feature_graph():
    """The serving-side attribution names exactly the fields each ratio is computed from."""
    assert set(explain.ENGINEERED_SOURCES) == set(features.ENGINEERED_FEATURES)
    for name, numerator, denominator, _ in features._RATIOS:
        assert explain.ENGINEERED_SOURCES[name][1] == (numerator, denominator)
    assert explain.EXT_SOURCES == features._EXT_SOURCES


def _margins(model, frame: pd.DataFrame) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (margin,) = session.run(["margin"], schema.encode_columns(frame))
    return margin


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate(1_500, seed=3)


def _booster(frame: pd.DataFrame, names: tuple[str, ...]) -> lightgbm.Booster:
    return lightgbm.train(
        {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 1, "num_threads": 1,
         "min_data_in_leaf": 5},
        lightgbm.Dataset(frame_features(frame, names), label=frame[schema.TARGET_FIELD],
                         feature_name=list(names)),
        num_boost_round=40)


def test_exported_model_ignores_protected_fields_and_their_engineered_features(frame):
    """Protected: CODE_GENDER and DAYS_BIRTH. Changing them (which moves EMPLOYED_AGE_RATIO)
    leaves every margin bit-identical; the same change moves an unprotected model."""
    changed = frame.copy()
    changed["CODE_GENDER"] = np.where(frame["CODE_GENDER"] == "F", "M", "F")
    changed["DAYS_BIRTH"] = (frame["DAYS_BIRTH"] * 0.6).round().astype(frame["DAYS_BIRTH"].dtype)
    protected = model_features(("CODE_GENDER", "DAYS_BIRTH"))
    model = export.export_model(_booster(frame, protected))
    assert export.booster_features(_booster(frame, protected)) == protected
    np.testing.assert_array_equal(_margins(model, frame), _margins(model, changed))
    open_model = export.export_model(_booster(frame, FEATURE_NAMES))
    assert not np.array_equal(_margins(open_model, frame), _margins(open_model, changed))


def test_age_bands():
    days = -np.array([18, 29.99, 30, 44.99, 45, 61.99, 62, 90]) * explain.DAYS_PER_YEAR
    assert list(explain.age_band(days)) == ["<30", "<30", "30-44", "30-44", "45-61", "45-61",
                                             "62+", "62+"]


def test_group_table_rates_and_four_fifths_ratio():
    # Group a: 4 applicants, 1 declined; group b: 4 applicants, 3 declined.
    y = np.array([0, 0, 1, 0, 0, 1, 1, 0])
    p = np.array([0.1, 0.1, 0.9, 0.1, 0.9, 0.9, 0.9, 0.1])
    labels = np.array(["a"] * 4 + ["b"] * 4, dtype=object)
    table = fairness.group_table(y, p, 0.5, labels, resamples=200, seed=0)
    a, b = table["a"], table["b"]
    assert a["applicants"]["value"] == 4 and b["applicants"]["value"] == 4
    assert a["decline_rate"]["value"] == 0.25 and b["decline_rate"]["value"] == 0.75
    assert a["approval_ratio"]["value"] == 1.0
    assert b["approval_ratio"]["value"] == pytest.approx(0.25 / 0.75, abs=1e-6)
    assert b["below_four_fifths"] and not a["below_four_fifths"]
    assert a["fpr"]["value"] == 0.0 and b["fpr"]["value"] == 0.5   # good clients declined
    assert a["tpr"]["value"] == 1.0 and b["tpr"]["value"] == 1.0
    assert a["mean_probability"]["value"] == pytest.approx(0.3)
    assert a["default_rate"]["value"] == 0.25
    for row in (a, b):
        for metric in ("decline_rate", "fpr", "mean_probability"):
            assert row[metric]["ci_low"] <= row[metric]["value"] <= row[metric]["ci_high"]
    report = {"oof": {"gender": table}}
    assert fairness.below_four_fifths(report) == ["oof/gender/b (0.33)"]
    assert "oof/gender/b" in fairness.summary_line(report)
