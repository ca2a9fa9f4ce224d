"""Schema checks of training data: every kind of error, all offending columns in one error,
nothing written on bad input; readers for CSV / CSV.gz / Parquet; column descriptions."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contract import schema
from training.data import (
    DataError,
    SchemaError,
    check_trainable,
    fingerprint,
    load_dataset,
    load_descriptions,
    load_table,
    validate,
)
from training.synthetic import generate


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate(300, seed=7)


def _problems(df: pd.DataFrame) -> dict[str, str]:
    with pytest.raises(SchemaError) as info:
        validate(df, source="bad.csv")
    return info.value.problems


def test_valid_frame_is_returned_in_canonical_form(frame: pd.DataFrame) -> None:
    shuffled = frame[list(reversed(frame.columns))]
    out = validate(shuffled)
    assert list(out.columns) == list(schema.TRAINING_COLUMNS)
    for f in schema.FEATURE_FIELDS:
        expected = {"integer": "int64", "number": "float64", "category": "object"}[f.kind]
        assert str(out[f.name].dtype) == expected, f.name
    assert str(out[schema.TARGET_FIELD].dtype) == "int64"
    pd.testing.assert_frame_equal(validate(out), out)


def test_integral_floats_and_numeric_strings_are_accepted(frame: pd.DataFrame) -> None:
    df = frame.copy()
    df["CNT_CHILDREN"] = df["CNT_CHILDREN"].astype(float)
    df["AMT_CREDIT"] = df["AMT_CREDIT"].astype(str)
    df[schema.TARGET_FIELD] = df[schema.TARGET_FIELD].astype(float)
    out = validate(df)
    assert out["CNT_CHILDREN"].dtype == np.int64
    np.testing.assert_allclose(out["AMT_CREDIT"], frame["AMT_CREDIT"])


def test_missing_and_unexpected_columns(frame: pd.DataFrame) -> None:
    df = frame.drop(columns=["AMT_CREDIT", "FLAG_DOCUMENT_21"]).assign(EXTRA=1, Other="x")
    assert _problems(df) == {
        "AMT_CREDIT": "missing column", "FLAG_DOCUMENT_21": "missing column",
        "EXTRA": "unexpected column", "Other": "unexpected column",
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [([2], "not 0/1"), ([np.nan], "not 0/1"), (["yes"], "not 0/1"), ([0.5], "not 0/1")],
)
def test_target_must_be_0_or_1(frame: pd.DataFrame, values: list, message: str) -> None:
    df = frame.copy().astype({schema.TARGET_FIELD: object})
    df.loc[: len(values) - 1, schema.TARGET_FIELD] = values
    problems = _problems(df)
    assert list(problems) == [schema.TARGET_FIELD]
    assert message in problems[schema.TARGET_FIELD]


def test_non_numeric_string_in_numeric_column(frame: pd.DataFrame) -> None:
    df = frame.astype({"AMT_INCOME_TOTAL": object})
    df.loc[5, "AMT_INCOME_TOTAL"] = "lots"
    assert _problems(df) == {"AMT_INCOME_TOTAL": "1 non-numeric values, e.g. 'lots'"}


def test_non_integral_value_in_integer_column(frame: pd.DataFrame) -> None:
    df = frame.astype({"DAYS_BIRTH": float})
    df.loc[0, "DAYS_BIRTH"] = -12000.5
    problems = _problems(df)
    assert list(problems) == ["DAYS_BIRTH"]
    assert "non-integral" in problems["DAYS_BIRTH"] and "-12000.5" in problems["DAYS_BIRTH"]


def test_unknown_category_names_the_value_and_vocabulary(frame: pd.DataFrame) -> None:
    df = frame.copy()
    df.loc[3, "CODE_GENDER"] = "Q"
    problems = _problems(df)
    assert list(problems) == ["CODE_GENDER"]
    assert "'Q'" in problems["CODE_GENDER"] and "allowed: F, M, XNA" in problems["CODE_GENDER"]


def test_nulls_in_non_nullable_columns(frame: pd.DataFrame) -> None:
    df = frame.astype({"CNT_CHILDREN": float})
    df.loc[1, "CNT_CHILDREN"] = np.nan
    df.loc[2, "NAME_CONTRACT_TYPE"] = None
    df.loc[4, "AMT_ANNUITY"] = np.nan  # nullable: fine
    df.loc[4, "OCCUPATION_TYPE"] = None  # nullable: fine
    problems = _problems(df)
    assert set(problems) == {"CNT_CHILDREN", "NAME_CONTRACT_TYPE"}
    assert all("missing values in a non-nullable column" in r for r in problems.values())


def test_out_of_range_and_infinite_values(frame: pd.DataFrame) -> None:
    df = frame.copy()
    df.loc[0, "EXT_SOURCE_2"] = 1.5
    df.loc[0, "AMT_CREDIT"] = np.inf
    problems = _problems(df)
    assert "outside [0, 1]" in problems["EXT_SOURCE_2"]
    assert "infinite" in problems["AMT_CREDIT"]


def test_duplicated_ids(frame: pd.DataFrame) -> None:
    df = frame.copy()
    df.loc[1, schema.ID_FIELD] = df.loc[0, schema.ID_FIELD]
    assert _problems(df) == {schema.ID_FIELD: "1 duplicated ids"}


def test_one_error_names_every_offending_column(frame: pd.DataFrame) -> None:
    df = frame.drop(columns=["FLAG_MOBIL"]).assign(SURPRISE=0)
    df = df.astype({"AMT_CREDIT": object, "CNT_CHILDREN": float, schema.TARGET_FIELD: object})
    df.loc[0, "AMT_CREDIT"] = "abc"
    df.loc[0, "CNT_CHILDREN"] = 0.5
    df.loc[0, schema.TARGET_FIELD] = 3
    df.loc[0, "WEEKDAY_APPR_PROCESS_START"] = "FUNDAY"
    df.loc[0, "FLAG_OWN_CAR"] = None
    expected = {"FLAG_MOBIL", "SURPRISE", "AMT_CREDIT", "CNT_CHILDREN", schema.TARGET_FIELD,
                "WEEKDAY_APPR_PROCESS_START", "FLAG_OWN_CAR"}
    with pytest.raises(SchemaError) as info:
        validate(df, source="bad.csv")
    assert set(info.value.problems) == expected
    message = str(info.value)
    assert message.startswith("bad.csv does not match the training schema (7 offending columns)")
    for name in expected:
        assert f"  - {name}: " in message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(schema.TRAINING_COLUMNS) + "\n")
    with pytest.raises(SchemaError, match="no data rows"):
        load_dataset(path, progress=False)


def test_too_few_defaults() -> None:
    check_trainable(np.array([0] * 50 + [1] * 8), folds=5, test_size=0.2)
    with pytest.raises(DataError, match="3 defaults"):
        check_trainable(np.array([0] * 50 + [1] * 3), folds=5, test_size=0.2)


def test_formats_read_alike_and_share_the_content_fingerprint(frame: pd.DataFrame,
                                                              tmp_path: Path) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_csv(tmp_path / "d.csv.gz", index=False)
    frame.to_parquet(tmp_path / "d.parquet", index=False)
    loaded = {name: load_dataset(tmp_path / name, progress=False)
              for name in ("d.csv", "d.csv.gz", "d.parquet")}
    reference = validate(frame)
    for name, ds in loaded.items():
        pd.testing.assert_frame_equal(ds.frame, reference, check_exact=False, rtol=1e-12)
        assert ds.fingerprint["rows"] == 300 and ds.fingerprint["columns"] == 122, name
        assert len(ds.fingerprint["file_sha256"]) == 64
    assert len({ds.fingerprint["sha256"] for ds in loaded.values()}) == 1
    assert len({ds.fingerprint["file_sha256"] for ds in loaded.values()}) == 3
    assert loaded["d.csv"].fingerprint["sha256"] == fingerprint(reference)["sha256"]
    changed = reference.copy()
    changed.loc[0, "AMT_CREDIT"] += 1
    assert fingerprint(changed)["sha256"] != fingerprint(reference)["sha256"]


def test_progress_shows_rows_read(frame: pd.DataFrame, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    load_table(tmp_path / "d.csv", progress=True)
    assert "300 rows" in capsys.readouterr().err


def test_descriptions_both_layouts(tmp_path: Path) -> None:
    ours = tmp_path / "columns_description.csv"
    ours.write_text('column,description,special\nAMT_CREDIT,"Credit amount, total",\n'
                    "DAYS_BIRTH,Age in days,time only relative to the application\n")
    assert load_descriptions(ours) == {
        "AMT_CREDIT": "Credit amount, total",
        "DAYS_BIRTH": "Age in days (time only relative to the application)",
    }
    kaggle = tmp_path / "HomeCredit_columns_description.csv"
    with open(kaggle, "wb") as fh:
        fh.write(',Table,Row,Description,Special\n'
                 '1,application_{train|test}.csv,AMT_CREDIT,Cr\xe9dit amount,\n'
                 '2,bureau.csv,AMT_CREDIT,Other table,\n'.encode("latin-1"))
    assert load_descriptions(kaggle) == {"AMT_CREDIT": "Crédit amount"}
    assert load_descriptions(None) == {}


def test_real_sample_passes(real_data_dir: Path) -> None:
    ds = load_dataset(real_data_dir / "application_train_sample.csv", progress=False)
    assert ds.frame.shape == (5000, 122)
    assert int(ds.frame[schema.TARGET_FIELD].sum()) == 386
    descriptions = load_descriptions(real_data_dir / "columns_description.csv")
    assert all(f.name in descriptions for f in schema.FIELDS)


def test_gzip_of_a_bad_file_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(SchemaError, match="cannot be parsed"):
        load_table(path, progress=False)
    ok = tmp_path / "tiny.csv.gz"
    with gzip.open(ok, "wt") as fh:
        fh.write("a,b\n1,2\n")
    assert load_table(ok, progress=False).shape == (1, 2)
