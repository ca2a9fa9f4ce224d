"""The drift report: schema typing, the local command, and the real check against Evidently
run directly on the Home Credit samples."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contract.schema import CATEGORICAL_FIELDS, NUMERIC_FIELDS
from drift.__main__ import main
from drift.report import FEATURE_NAMES, build_report, data_definition, prepare_frame
from infra.synthetic_traffic import DRIFTED_FIELDS, applications, frame


def test_telemetry_is_off_before_evidently_is_imported() -> None:
    # drift/__init__.py sets these; evidently 0.7.23 reads DO_NOT_TRACK (evidently.telemetry),
    # EVIDENTLY_DISABLE_TELEMETRY (legacy config) and ITERATIVE_DO_NOT_TRACK (its library).
    for name in ("DO_NOT_TRACK", "EVIDENTLY_DISABLE_TELEMETRY", "ITERATIVE_DO_NOT_TRACK"):
        assert os.environ[name] == "1"
    from evidently.legacy import _config
    from evidently.telemetry import event_logger

    assert _config.TELEMETRY_ENABLED is False
    assert event_logger.enabled() is False


def test_column_types_come_from_the_schema() -> None:
    definition = data_definition()
    assert definition.numerical_columns == list(NUMERIC_FIELDS)
    assert definition.categorical_columns == list(CATEGORICAL_FIELDS)
    assert len(NUMERIC_FIELDS) + len(CATEGORICAL_FIELDS) == len(FEATURE_NAMES) == 120


def test_prepare_frame_drops_id_and_target_and_types_every_field() -> None:
    raw = frame(applications(50, seed=3))
    raw.insert(0, "TARGET", 0)
    raw.insert(0, "SK_ID_CURR", range(100_000, 100_050))
    raw.loc[0, "NAME_TYPE_SUITE"] = None
    raw.loc[1, "OCCUPATION_TYPE"] = ""  # the model's missing-category marker
    raw.loc[2, "AMT_ANNUITY"] = None
    prepared = prepare_frame(raw)
    assert list(prepared.columns) == list(FEATURE_NAMES)
    assert all(prepared[name].dtype == np.float64 for name in NUMERIC_FIELDS)
    assert all(prepared[name].dtype == object for name in CATEGORICAL_FIELDS)
    assert pd.isna(prepared.loc[0, "NAME_TYPE_SUITE"])
    assert pd.isna(prepared.loc[1, "OCCUPATION_TYPE"])
    assert np.isnan(prepared.loc[2, "AMT_ANNUITY"])
    assert prepared.loc[3, "AMT_CREDIT"] == pytest.approx(raw.loc[3, "AMT_CREDIT"])
    assert prepared.loc[3, "NAME_CONTRACT_TYPE"] == raw.loc[3, "NAME_CONTRACT_TYPE"]


def test_prepare_frame_names_missing_fields() -> None:
    raw = frame(applications(5)).drop(columns=["EXT_SOURCE_1", "CODE_GENDER"])
    with pytest.raises(ValueError, match=r"2 schema field.*CODE_GENDER.*EXT_SOURCE_1"):
        prepare_frame(raw)


@pytest.mark.slow
def test_make_drift_report_command_writes_the_three_files(tmp_path: Path) -> None:
    """The command behind `make drift-report`: a training-style reference (SK_ID_CURR, TARGET)
    and a raw-applications current file in which one field was never filled."""
    reference = frame(applications(2000, seed=11))
    reference.insert(0, "TARGET", np.arange(2000) % 2)
    reference.insert(0, "SK_ID_CURR", np.arange(2000) + 100_000)
    current = frame(applications(1000, seed=12, drifted=True))
    current.insert(0, "SK_ID_CURR", np.arange(1000) + 500_000)
    current["COMMONAREA_AVG"] = np.nan
    reference.to_csv(tmp_path / "reference.csv.gz", index=False)
    current.to_csv(tmp_path / "current.csv", index=False)
    out = tmp_path / "out"
    argv = ["report", "--reference", str(tmp_path / "reference.csv.gz")]
    assert main([*argv, "--current", str(tmp_path / "current.csv"), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == {"reference": 2000, "current": 1000}
    assert summary["columns_tested"] == 119
    assert summary["untestable_columns"] == [
        {"column": "COMMONAREA_AVG", "reason": "no values in current"}
    ]
    assert set(DRIFTED_FIELDS) <= {c["column"] for c in summary["drifted_columns"]}
    assert summary["drift_share"] == pytest.approx(summary["drifted_count"] / 119)
    report = json.loads((out / "report.json").read_text())
    assert len(report["metrics"]) == 120  # DriftedColumnsCount + 119 ValueDrift
    assert "<html" in (out / "report.html").read_text(encoding="utf-8")[:1000].lower()


def test_command_rejects_a_file_without_the_schema_fields(tmp_path: Path, capsys) -> None:
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "bad.csv", index=False)
    frame(applications(10)).to_csv(tmp_path / "ok.csv", index=False)
    files = ["--reference", str(tmp_path / "ok.csv"), "--current", str(tmp_path / "bad.csv")]
    code = main(["report", *files, "--output", str(tmp_path / "out")])
    assert code == 2
    assert "120 schema field(s) missing" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.real_data
@pytest.mark.slow
def test_real_check_same_drifted_columns_as_evidently_directly(real_data_dir: Path) -> None:
    """Reference = application_train_sample.csv, current = application_test_sample.csv.

    The direct run: Evidently's DataDriftTable on the two frames as read from disk (only
    SK_ID_CURR and TARGET dropped), with the same column typing, via its ColumnMapping API,
    so neither our frame preparation nor our summary extraction is involved.
    """
    from evidently.legacy.metrics import DataDriftTable
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    from evidently.legacy.report import Report as LegacyReport

    train = pd.read_csv(real_data_dir / "application_train_sample.csv")
    test = pd.read_csv(real_data_dir / "application_test_sample.csv")
    ours = build_report(train, test).summary

    direct = LegacyReport(metrics=[DataDriftTable()])
    direct.run(
        reference_data=train.drop(columns=["SK_ID_CURR", "TARGET"]),
        current_data=test.drop(columns=["SK_ID_CURR"]),
        column_mapping=ColumnMapping(
            target=None,
            prediction=None,
            numerical_features=list(NUMERIC_FIELDS),
            categorical_features=list(CATEGORICAL_FIELDS),
        ),
    )
    table = direct.as_dict()["metrics"][0]["result"]
    expected = {name for name, col in table["drift_by_columns"].items() if col["drift_detected"]}

    assert table["number_of_columns"] == ours["columns_tested"] == 120
    assert [c["column"] for c in ours["drifted_columns"]] == [
        name for name in FEATURE_NAMES if name in expected
    ]
    assert ours["drifted_count"] == table["number_of_drifted_columns"] == len(expected)
    assert ours["drift_share"] == pytest.approx(table["share_of_drifted_columns"])
    assert ours["dataset_drift"] is table["dataset_drift"] is False
    for column in ours["drifted_columns"]:
        assert column["score"] == pytest.approx(
            table["drift_by_columns"][column["column"]]["drift_score"]
        )
        assert column["stattest"] == table["drift_by_columns"][column["column"]]["stattest_name"]
    print(
        f"\nreal check: {ours['drifted_count']} of 120 columns drifted "
        f"(share {ours['drift_share']:.4f}): {', '.join(sorted(expected))}"
    )
