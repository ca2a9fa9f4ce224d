"""Protected attributes never reach the model (directly or through an engineered feature),
and the fairness table's arithmetic."""

from __future__ import annotations

import lightgbm
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from contract import schema
from training import export
from training.features import FEATURE_NAMES, frame_features, model_features
from training.synthetic import generate


def test_default_model_features_leave_out_gender_age_and_marital_status():
    names = model_features()
    assert "CODE_GENDER" not in names
    assert set(FEATURE_NAMES) - set(names) == {"CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS",
                                               "EMPLOYED_AGE_RATIO"}
    assert set(FEATURE_NAMES) - set(model_features(("CODE_GENDER",))) == {"CODE_GENDER"}
    # No engineered feature is computed from marital status (family size is another field).
    assert set(FEATURE_NAMES) - set(model_features(("NAME_FAMILY_STATUS",))) == {
        "NAME_FAMILY_STATUS"}
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
    """Protected by default: CODE_GENDER, DAYS_BIRTH and NAME_FAMILY_STATUS. Changing them
    (which moves EMPLOYED_AGE_RATIO) leaves every margin bit-identical; the same change
    moves an unprotected model."""
    changed = frame.copy()
    changed["CODE_GENDER"] = np.where(frame["CODE_GENDER"] == "F", "M", "F")
    changed["DAYS_BIRTH"] = (frame["DAYS_BIRTH"] * 0.6).round().astype(frame["DAYS_BIRTH"].dtype)
    changed["NAME_FAMILY_STATUS"] = np.where(frame["NAME_FAMILY_STATUS"] == "Married",
                                             "Single / not married", "Married")
    protected = model_features()
    model = export.export_model(_booster(frame, protected))
    assert export.booster_features(_booster(frame, protected)) == protected
    np.testing.assert_array_equal(_margins(model, frame), _margins(model, changed))
    open_model = export.export_model(_booster(frame, FEATURE_NAMES))
    assert not np.array_equal(_margins(open_model, frame), _margins(open_model, changed))
    # The marital status change is a real change of the feature graph's input.
    column = FEATURE_NAMES.index("NAME_FAMILY_STATUS")
    assert (frame_features(frame, FEATURE_NAMES)[:, column]
            != frame_features(changed, FEATURE_NAMES)[:, column]).all()
