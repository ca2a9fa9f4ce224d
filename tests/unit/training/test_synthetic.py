"""The synthetic Home-Credit-shaped data set (training/synthetic.py)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from contract import schema
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from training import synthetic

ROWS = 20_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic.generate(ROWS, seed=7)


@pytest.fixture(scope="module")
def real(real_data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(real_data_dir / "application_train_sample.csv")


def _expected_dtype(name: str) -> str:
    if name in (schema.ID_FIELD, schema.TARGET_FIELD):
        return "int64"
    field = schema.FIELDS_BY_NAME[name]
    if field.kind == "category":
        return "object"
    return "int64" if field.kind == "integer" and not field.nullable else "float64"


def _tolerance(rate: float, n: int) -> float:
    """Four binomial standard errors plus a small allowance for calibration rounding."""
    return 4 * math.sqrt(rate * (1 - rate) / n) + 0.01


# ------------------------------------------------------------------ shape, types, vocabularies


def test_columns_and_dtypes_are_exactly_the_schemas(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(schema.TRAINING_COLUMNS)
    assert len(frame.columns) == 122
    assert len(frame) == ROWS
    for name in frame.columns:
        assert str(frame[name].dtype) == _expected_dtype(name), name
    assert synthetic.column_dtypes() == {n: _expected_dtype(n) for n in schema.TRAINING_COLUMNS}


def test_ids_are_unique_increasing_int64(frame: pd.DataFrame) -> None:
    ids = frame[schema.ID_FIELD]
    assert ids.is_unique and ids.is_monotonic_increasing
    assert ids.iloc[0] == 100_002


def test_categories_are_strings_from_the_schema_vocabulary(frame: pd.DataFrame) -> None:
    for name in schema.CATEGORICAL_FIELDS:
        values = frame[name].dropna()
        assert values.map(type).eq(str).all(), name
        assert set(values) <= set(schema.FIELDS_BY_NAME[name].categories), name


def test_common_vocabulary_values_all_occur(frame: pd.DataFrame) -> None:
    # Every value with at least 0.5% share in the real sample shows up in 20,000 rows.
    assert set(frame["NAME_HOUSING_TYPE"]) == set(
        schema.FIELDS_BY_NAME["NAME_HOUSING_TYPE"].categories
    )
    assert set(frame["WEEKDAY_APPR_PROCESS_START"]) == set(
        schema.FIELDS_BY_NAME["WEEKDAY_APPR_PROCESS_START"].categories
    )
    assert frame["ORGANIZATION_TYPE"].nunique() >= 50


def test_values_respect_schema_bounds_and_nullability(frame: pd.DataFrame) -> None:
    for field in schema.FEATURE_FIELDS:
        column = frame[field.name]
        if not field.nullable:
            assert column.notna().all(), field.name
        if field.kind == "category":
            continue
        values = column.dropna().to_numpy(dtype=np.float64)
        assert np.isfinite(values).all(), field.name
        if field.minimum is not None:
            assert values.min() >= field.minimum, field.name
        if field.maximum is not None:
            assert values.max() <= field.maximum, field.name
        if field.kind == "integer":
            assert (values == np.round(values)).all(), field.name
    assert set(frame[schema.TARGET_FIELD].unique()) == {0, 1}


def test_target_and_every_field_are_usable_by_the_model_encoder(frame: pd.DataFrame) -> None:
    encoded = schema.encode_columns(frame.head(500))
    assert encoded[NUMERIC_INPUT].shape == (500, len(schema.NUMERIC_FIELDS))
    assert encoded[CATEGORICAL_INPUT].shape == (500, len(schema.CATEGORICAL_FIELDS))


# ------------------------------------------------------------------ missingness


def test_missing_rates_cover_exactly_the_nullable_fields() -> None:
    nullable = {f.name for f in schema.FEATURE_FIELDS if f.nullable}
    assert set(synthetic.MISSING_RATES) == nullable


def test_missingness_is_near_the_calibrated_targets(frame: pd.DataFrame) -> None:
    for name, target in synthetic.MISSING_RATES.items():
        observed = frame[name].isna().mean()
        assert abs(observed - target) <= _tolerance(target, ROWS), (name, observed, target)
    assert frame["EXT_SOURCE_1"].isna().mean() == pytest.approx(0.565, abs=0.02)


def test_building_fields_are_missing_together_and_strongly_correlated(
    frame: pd.DataFrame,
) -> None:
    stats = [f.name[:-4] for f in schema.FEATURE_FIELDS if f.name.endswith("_AVG")]
    building = [
        f"{stat}_{suffix}" for stat in stats for suffix in ("AVG", "MODE", "MEDI")
    ] + ["TOTALAREA_MODE", "FONDKAPREMONT_MODE", "HOUSETYPE_MODE", "WALLSMATERIAL_MODE"]
    no_record = frame["EMERGENCYSTATE_MODE"].isna()
    assert frame.loc[no_record, building].isna().all().all()
    for stat in stats:
        avg = frame[f"{stat}_AVG"]
        for suffix in ("MODE", "MEDI"):
            twin = frame[f"{stat}_{suffix}"]
            assert (avg.isna() == twin.isna()).all(), stat
            assert avg.corr(twin, method="spearman") > 0.85, (stat, suffix)
    assert frame["APARTMENTS_AVG"].corr(frame["LIVINGAREA_AVG"], method="spearman") > 0.8
    assert frame["APARTMENTS_AVG"].corr(frame["TOTALAREA_MODE"], method="spearman") > 0.8
    # Nested missingness: fields go missing in groups, not independently.
    counts = frame[building].isna().sum(axis=1)
    assert ((counts == 0) | (counts == len(building))).mean() > 0.6


# ------------------------------------------------------------------ structural rules


def test_days_employed_sentinel_marks_pensioners_and_unemployed(frame: pd.DataFrame) -> None:
    sentinel = frame["DAYS_EMPLOYED"] == schema.DAYS_EMPLOYED_SENTINEL
    assert sentinel.mean() == pytest.approx(0.18, abs=0.015)
    assert (sentinel == frame["NAME_INCOME_TYPE"].isin(["Pensioner", "Unemployed"])).all()
    assert (sentinel == (frame["ORGANIZATION_TYPE"] == "XNA")).all()
    assert (sentinel == (frame["FLAG_EMP_PHONE"] == 0)).all()
    assert frame.loc[sentinel, "OCCUPATION_TYPE"].isna().all()
    assert (frame.loc[sentinel, "FLAG_WORK_PHONE"] == 0).all()
    worked = frame.loc[~sentinel, ["DAYS_EMPLOYED", "DAYS_BIRTH"]]
    assert (worked["DAYS_EMPLOYED"] < 0).all()
    assert (worked["DAYS_EMPLOYED"] - worked["DAYS_BIRTH"] >= 18 * 365).all()
    # Pensioners are older than everyone else on average.
    ages = -frame.groupby(sentinel)["DAYS_BIRTH"].mean() / 365.25
    assert ages[True] - ages[False] > 15


def test_amounts_are_consistent(frame: pd.DataFrame) -> None:
    cash = frame["NAME_CONTRACT_TYPE"] == "Cash loans"
    complete = frame[["AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE"]].notna().all(axis=1)
    c = frame[cash & complete]
    ratio = c["AMT_CREDIT"] / c["AMT_GOODS_PRICE"]
    assert ratio.between(1.0, 1.6).all()
    assert (ratio == 1.0).mean() == pytest.approx(0.29, abs=0.04)
    rate = c["AMT_ANNUITY"] / c["AMT_CREDIT"]
    assert rate.between(0.024, 0.125).all()  # terms of roughly 8 to 40 months
    r = frame[~cash & complete]
    assert np.allclose(r["AMT_ANNUITY"], 0.05 * r["AMT_CREDIT"])
    assert (r["AMT_GOODS_PRICE"] == r["AMT_CREDIT"]).all()
    assert frame["AMT_CREDIT"].corr(frame["AMT_ANNUITY"], method="spearman") > 0.7
    assert frame["AMT_INCOME_TOTAL"].corr(frame["AMT_CREDIT"], method="spearman") > 0.25


def test_household_fields_are_consistent(frame: pd.DataFrame) -> None:
    couple = frame["NAME_FAMILY_STATUS"].isin(["Married", "Civil marriage"]).astype(int)
    known = frame["CNT_FAM_MEMBERS"].notna()
    expected = frame["CNT_CHILDREN"] + 1 + couple
    assert (frame.loc[known, "CNT_FAM_MEMBERS"] == expected[known]).all()
    assert (frame["OWN_CAR_AGE"].isna() == (frame["FLAG_OWN_CAR"] == "N")).all()
    assert frame["FLAG_MOBIL"].mean() > 0.999
    assert (frame["REGION_RATING_CLIENT_W_CITY"] <= frame["REGION_RATING_CLIENT"]).all()
    assert (frame["DAYS_REGISTRATION"] >= frame["DAYS_BIRTH"]).all()
    assert (frame["DAYS_ID_PUBLISH"] >= frame["DAYS_BIRTH"]).all()
    social = frame[list(f.name for f in schema.FEATURE_FIELDS if "SOCIAL" in f.name)].dropna()
    assert (social["DEF_30_CNT_SOCIAL_CIRCLE"] <= social["OBS_30_CNT_SOCIAL_CIRCLE"]).all()
    assert (social["DEF_60_CNT_SOCIAL_CIRCLE"] <= social["DEF_30_CNT_SOCIAL_CIRCLE"]).all()


def test_ext_sources_are_unit_scores_related_to_age(frame: pd.DataFrame) -> None:
    for i in (1, 2, 3):
        values = frame[f"EXT_SOURCE_{i}"].dropna()
        assert values.between(0, 1).all()
        assert 0.4 < values.median() < 0.65
    # Older applicants (more negative DAYS_BIRTH) have higher EXT_SOURCE_1, as in the real data.
    assert frame["EXT_SOURCE_1"].corr(frame["DAYS_BIRTH"], method="spearman") < -0.4


# ------------------------------------------------------------------ target


def test_positive_rate_is_about_eight_percent(frame: pd.DataFrame) -> None:
    assert frame[schema.TARGET_FIELD].mean() == pytest.approx(0.08, abs=0.015)
    other = synthetic.generate(5_000, seed=123)
    assert other[schema.TARGET_FIELD].mean() == pytest.approx(0.08, abs=0.015)


def test_risk_moves_the_way_real_risk_does(frame: pd.DataFrame) -> None:
    target = frame[schema.TARGET_FIELD]

    def rate_by_quintile(column: str) -> pd.Series:
        quintile = pd.qcut(frame[column], 5, labels=False, duplicates="drop")
        return target.groupby(quintile).mean()

    for i in (1, 2, 3):
        rates = rate_by_quintile(f"EXT_SOURCE_{i}")
        assert rates.iloc[0] > 2 * rates.iloc[-1], i  # low scores default far more
    ages = rate_by_quintile("DAYS_BIRTH")  # last quintile = youngest
    assert ages.iloc[-1] > ages.iloc[0]
    by_education = target.groupby(frame["NAME_EDUCATION_TYPE"]).mean()
    assert by_education["Higher education"] < by_education["Secondary / secondary special"]
    by_gender = target.groupby(frame["CODE_GENDER"]).mean()
    assert by_gender["M"] > by_gender["F"]


def test_a_small_model_learns_a_real_but_imperfect_signal(frame: pd.DataFrame) -> None:
    features = frame.drop(columns=[schema.ID_FIELD, schema.TARGET_FIELD])
    for name in schema.CATEGORICAL_FIELDS:
        features[name] = features[name].astype("category")
    target = frame[schema.TARGET_FIELD].to_numpy()
    split = int(0.7 * len(frame))
    model = lgb.LGBMClassifier(
        n_estimators=100, learning_rate=0.05, num_leaves=15, min_child_samples=100,
        colsample_bytree=0.5, verbose=-1, n_jobs=1, random_state=0,
    )
    model.fit(features.iloc[:split], target[:split])
    auc = roc_auc_score(target[split:], model.predict_proba(features.iloc[split:])[:, 1])
    assert 0.68 < auc < 0.85


# ------------------------------------------------------------------ determinism, files


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    first = synthetic.generate(3_000, seed=5)
    pd.testing.assert_frame_equal(first, synthetic.generate(3_000, seed=5))
    other = synthetic.generate(3_000, seed=6)
    assert not first.drop(columns=[schema.ID_FIELD]).equals(other.drop(columns=[schema.ID_FIELD]))
    assert (first["EXT_SOURCE_2"] != other["EXT_SOURCE_2"]).mean() > 0.9


def test_progress_bar_does_not_change_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = synthetic.generate(500, seed=2)
    loud = synthetic.generate(500, seed=2, progress=True)
    pd.testing.assert_frame_equal(quiet, loud)
    assert "synthetic data" in capsys.readouterr().err


def test_tiny_frames_work_and_empty_ones_are_refused() -> None:
    one = synthetic.generate(1, seed=0)
    assert list(one.columns) == list(schema.TRAINING_COLUMNS) and len(one) == 1
    with pytest.raises(ValueError, match="rows"):
        synthetic.generate(0)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_write_sample_round_trips(tmp_path: Path, suffix: str) -> None:
    path = synthetic.write_sample(tmp_path / "sub" / f"applications{suffix}", 800, seed=4)
    assert path == tmp_path / "sub" / f"applications{suffix}" and path.is_file()
    expected = synthetic.generate(800, seed=4)
    if suffix == ".parquet":
        loaded = pd.read_parquet(path)
        for name in schema.CATEGORICAL_FIELDS:  # Parquet reads a missing string back as None
            loaded[name] = loaded[name].where(loaded[name].notna(), np.nan)
    else:
        loaded = pd.read_csv(path, float_precision="round_trip")
    pd.testing.assert_frame_equal(loaded, expected)


def test_gzip_output_is_byte_reproducible(tmp_path: Path) -> None:
    digests = {
        hashlib.sha256(
            synthetic.write_sample(tmp_path / f"run{i}" / "data.csv.gz", 300, seed=1).read_bytes()
        ).hexdigest()
        for i in range(2)
    }
    assert len(digests) == 1


def test_write_sample_refuses_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="suffix"):
        synthetic.write_sample(tmp_path / "data.xlsx", 10)


# ------------------------------------------------------------------ calibration vs the real data


@pytest.mark.real_data
def test_calibration_matches_the_real_sample(real: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Documents the calibration: key rates of the synthetic set against the real sample."""
    ours = synthetic.key_statistics(frame)
    theirs = synthetic.key_statistics(real)
    assert theirs["positive_rate"] == pytest.approx(0.0772, abs=1e-4)
    assert ours["positive_rate"] == pytest.approx(theirs["positive_rate"], abs=0.015)
    assert ours["sentinel_rate"] == pytest.approx(theirs["sentinel_rate"], abs=0.015)
    for key in theirs:
        if key.startswith("missing:"):
            assert ours[key] == pytest.approx(theirs[key], abs=0.02), key
    # The embedded targets are the sample's own rates (tiny full-data rates aside).
    for name, rate in synthetic.MISSING_RATES.items():
        assert rate == pytest.approx(real[name].isna().mean(), abs=1e-3), name


@pytest.mark.real_data
def test_distributions_match_the_real_sample(real: pd.DataFrame, frame: pd.DataFrame) -> None:
    for name in schema.CATEGORICAL_FIELDS:
        p = real[name].value_counts(normalize=True)
        q = frame[name].value_counts(normalize=True)
        distance = 0.5 * p.sub(q, fill_value=0).abs().sum()  # total variation
        assert distance < 0.05, (name, distance)
    for name in (
        "AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "DAYS_BIRTH",
        "DAYS_REGISTRATION", "DAYS_ID_PUBLISH", "DAYS_LAST_PHONE_CHANGE", "EXT_SOURCE_1",
        "EXT_SOURCE_2", "EXT_SOURCE_3", "REGION_POPULATION_RELATIVE", "APARTMENTS_AVG",
        "YEARS_BUILD_MEDI", "TOTALAREA_MODE", "OWN_CAR_AGE", "CNT_FAM_MEMBERS",
    ):
        a = np.sort(real[name].dropna().to_numpy())
        b = np.sort(frame[name].dropna().to_numpy())
        grid = np.union1d(a, b)
        ks = np.abs(
            np.searchsorted(a, grid, side="right") / len(a)
            - np.searchsorted(b, grid, side="right") / len(b)
        ).max()
        assert ks < 0.08, (name, ks)
    pairs = [("EXT_SOURCE_1", "DAYS_BIRTH"), ("AMT_CREDIT", "AMT_ANNUITY"),
             ("AMT_INCOME_TOTAL", "AMT_CREDIT"), ("APARTMENTS_AVG", "LIVINGAREA_AVG")]
    for x, y in pairs:
        assert frame[x].corr(frame[y], method="spearman") == pytest.approx(
            real[x].corr(real[y], method="spearman"), abs=0.08
        ), (x, y)


def test_the_true_pds_are_what_target_was_drawn_from():
    from training.synthetic import generate, generate_with_true_pd

    frame, pd_true = generate_with_true_pd(20_000, seed=3)
    assert frame.equals(generate(20_000, seed=3)) and len(pd_true) == len(frame)
    assert ((pd_true > 0) & (pd_true < 1)).all()
    y = frame["TARGET"].to_numpy()
    # TARGET ~ Bernoulli(pd): means agree within 4 standard errors, and riskier rows default more
    assert abs(y.mean() - pd_true.mean()) < 4 * (pd_true.mean() / len(y)) ** 0.5
    high = pd_true > np.quantile(pd_true, 0.9)
    assert y[high].mean() > 3 * y[~high].mean()
