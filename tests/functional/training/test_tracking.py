"""MLflow on a real sqlite store: a tiny end-to-end ``train`` is logged, its ONNX model
registered with alias ``champion``, and the card carries the registry version."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from contract import schema
from training import tracking
from training.costs import Costs
from training.pipeline import TrainConfig, TrainResult, train
from training.tracking import CHAMPION_ALIAS, REGISTERED_MODEL

pytestmark = pytest.mark.slow


def _config(tmp: Path, output: Path, **kw: object) -> TrainConfig:
    defaults: dict[str, object] = dict(
        output=output, rows=3000, seed=1, folds=3, trials=2, bootstrap=200,
        tracking_uri=f"sqlite:///{tmp / 'store' / 'mlflow.db'}", progress=False,
        costs=Costs(10, 1))
    defaults.update(kw)
    return TrainConfig(**defaults)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    tmp = tmp_path_factory.mktemp("mlflow")
    return tmp, train(_config(tmp, tmp / "bundle"))


def _client(tmp: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{tmp / 'store' / 'mlflow.db'}")


def test_store_layout(first: tuple[Path, TrainResult]) -> None:
    tmp, _ = first
    assert (tmp / "store" / "mlflow.db").is_file()
    assert (tmp / "store" / "artifacts").is_dir()  # artifacts beside the sqlite file


def test_registered_with_champion_alias(first: tuple[Path, TrainResult]) -> None:
    tmp, result = first
    client = _client(tmp)
    version = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    assert str(version.version) == str(result.model_version) == "1"
    assert version.run_id == result.run_id
    assert version.tags["onnx_sha256"] == result.card["onnx_sha256"]
    assert float(version.tags["threshold"]) == result.card["threshold"]
    assert result.card["model_version"] == "1"
    assert result.card["registered_model"] == {
        "name": REGISTERED_MODEL, "alias": CHAMPION_ALIAS, "version": 1}


def test_registered_onnx_is_the_bundle_graph(first: tuple[Path, TrainResult]) -> None:
    import mlflow.onnx

    tmp, result = first
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'store' / 'mlflow.db'}")
    registered = mlflow.onnx.load_model(f"models:/{REGISTERED_MODEL}@{CHAMPION_ALIAS}")
    bundle = (result.output / "model.onnx").read_bytes()
    reference = pd.read_csv(result.output / "reference.csv.gz").head(50)
    feeds = schema.encode_columns(reference)
    outputs = [ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(
        ["probability"], feeds)[0] for m in (registered.SerializeToString(), bundle)]
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_run_params_metrics_and_dataset(first: tuple[Path, TrainResult]) -> None:
    tmp, result = first
    run = _client(tmp).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    fp = result.card["data_fingerprint"]
    assert run.data.params["data.sha256"] == fp["sha256"]
    assert run.data.params["data.rows"] == "3000" and run.data.params["data.columns"] == "122"
    assert run.data.tags["data.sha256"] == fp["sha256"]
    assert run.data.params["cost_fn"] == "10.0" and run.data.params["cost_fp"] == "1.0"
    m = run.data.metrics
    for key in ("cv_auc", "cv_cost_per_applicant", "test_auc", "test_auc_ci_low",
                "test_auc_ci_high", "test_cost_per_applicant", "test_cost_vs_accept_all",
                "test_recall", "test_precision", "onehot_grid_cv_auc", "onehot_grid_test_auc",
                "threshold", "onehot_grid_threshold",
                "compare_dummy_cv_auc", "compare_logistic_regression_cv_auc",
                "compare_onehot_grid_cv_auc", "compare_champion_cv_auc"):
        assert key in m, key
    assert m["test_auc_ci_low"] <= m["test_auc"] <= m["test_auc_ci_high"]
    assert m["cv_auc"] == pytest.approx(result.card["metrics"]["cv"]["auc"])
    assert m["threshold"] == pytest.approx(result.card["threshold"])
    inputs = run.inputs.dataset_inputs
    assert inputs and inputs[0].dataset.digest == fp["sha256"][:36]


def test_child_runs_per_candidate(first: tuple[Path, TrainResult]) -> None:
    tmp, result = first
    client = _client(tmp)
    run = client.get_run(result.run_id)
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'")
    names = {c.data.tags["candidate"] for c in children}
    # "unprotected": the same search with the protected fields, evidence only.
    assert names == {"dummy", "logistic_regression", "onehot_grid", "champion", "unprotected"}
    for child in children:
        assert "cv_auc" in child.data.metrics and "cv_cost_per_applicant" in child.data.metrics
    (unprotected,) = [c for c in children if c.data.tags["candidate"] == "unprotected"]
    assert unprotected.data.tags["served"] == "never"
    metrics = run.data.metrics
    assert metrics["compliance_cv_auc_compliant"] == pytest.approx(
        result.card["compliance"]["compliant"]["cv_auc"])
    assert any(k.startswith("fair_oof_age_") for k in metrics)
    assert any(k.startswith("fair_oof_marital_status_") for k in metrics)


def test_artifacts(first: tuple[Path, TrainResult]) -> None:
    tmp, result = first
    client = _client(tmp)
    listed = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"plots", "bundle", "summary.json", "champion_search_trials.csv"} <= listed
    plots = {a.path for a in client.list_artifacts(result.run_id, "plots")}
    assert plots == {f"plots/{n}.png" for n in ("cost_vs_threshold", "roc", "confusion_matrix",
                                                 "shap_importance", "fairness_oof",
                                                 "fairness_test", "reliability",
                                                 "lda_frontier")}
    bundle = {a.path for a in client.list_artifacts(result.run_id, "bundle")}
    assert {"bundle/model.onnx", "bundle/model_card.json", "bundle/golden_set.json"} <= bundle
    local = Path(client.download_artifacts(result.run_id, "bundle/model_card.json",
                                           str(tmp / "dl")))
    logged = json.loads(local.read_text())
    assert logged == json.loads((result.output / "model_card.json").read_text())
    assert logged["model_version"] == "1"


def test_bundle_files_and_card(first: tuple[Path, TrainResult]) -> None:
    _, result = first
    files = sorted(p.name for p in result.output.iterdir())
    assert files == ["golden_set.json", "model.onnx", "model_card.json", "reference.csv.gz",
                     "reference_bins.json", "reference_scores.json", "shap_paths.npz"]
    card = json.loads((result.output / "model_card.json").read_text())
    assert card["costs"] == {"fn": 10.0, "fp": 1.0}
    assert 0 < card["threshold"] < 1
    assert card["data_fingerprint"]["rows"] == 3000
    assert [e["name"] for e in card["schema"]] == [f.name for f in schema.FIELDS]
    assert card["parity"]["passed"] and card["probe"]["passed"]
    test = card["metrics"]["test"]
    for name in ("auc", "cost_per_applicant", "cost_vs_accept_all", "recall", "precision"):
        assert test[name]["ci_low"] <= test[name]["value"] <= test[name]["ci_high"]
    reference = pd.read_csv(result.output / "reference.csv.gz")
    assert list(reference.columns) == [f.name for f in schema.FEATURE_FIELDS]
    assert len(reference) == 2400  # all training rows (3000 - 20% test) < 5000


def test_second_run_moves_the_alias(first: tuple[Path, TrainResult]) -> None:
    tmp, result = first
    again = train(_config(tmp, result.output, rows=1500, seed=2, folds=2, trials=1))
    client = _client(tmp)
    assert again.model_version == 2
    alias = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION_ALIAS)
    assert str(alias.version) == "2" and alias.run_id == again.run_id
    card = json.loads((result.output / "model_card.json").read_text())
    assert card["model_version"] == "2"
    assert card["data_fingerprint"]["rows"] == 1500


def test_tracking_uri_default_and_override(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking.tracking_uri() == f"sqlite:///{tracking.REPO_ROOT / 'mlruns' / 'mlflow.db'}"
    assert tracking.artifact_location(tracking.tracking_uri()) == (
        tracking.REPO_ROOT / "mlruns" / "artifacts").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/x.db")
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path}/x.db"
    assert tracking.artifact_location(tracking.tracking_uri()) == (tmp_path / "artifacts").as_uri()
    assert tracking.artifact_location("http://mlflow.internal:5000") is None


def test_flatten_and_metric_filter() -> None:
    assert tracking.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {
        "a.b": 1, "a.c.d": 2, "e": 3}
    assert tracking._metric_values({"x": 1, "y": float("nan"), "z": "s", "w": True}) == {
        "x": 1.0}
