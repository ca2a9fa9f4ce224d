"""MLflow tracking: one parent run per ``train``, a child run per candidate, the registry.

Default store: ``sqlite:///<repo>/mlruns/mlflow.db`` with artifacts in
``<repo>/mlruns/artifacts`` (both created on demand and git-ignored). ``MLFLOW_TRACKING_URI``
overrides it; for another sqlite file the artifacts go to an ``artifacts`` folder beside it.
Browse with ``mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db`` from the repo root.
Nothing here needs the network.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_STORE_DIR = REPO_ROOT / "mlruns"
EXPERIMENT = "credit-scoring"
REGISTERED_MODEL = "credit-default-champion"
CHAMPION_ALIAS = "champion"
_PARAM_LIMIT = 6000  # MLflow's maximum length of a param value

log = logging.getLogger(__name__)


def default_tracking_uri() -> str:
    return f"sqlite:///{DEFAULT_STORE_DIR / 'mlflow.db'}"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the project's embedded sqlite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:"):
        return None
    parsed = urlparse(uri)
    path = unquote(parsed.path)
    return Path(path) if path and path != "/:memory:" else None


def artifact_location(uri: str) -> str | None:
    """Artifact root for a new experiment: beside a sqlite file, else the server's default."""
    db = _sqlite_path(uri)
    return (db.parent / "artifacts").resolve().as_uri() if db is not None else None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = value


def flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    out: dict[str, Any] = {}
    _flatten("", values, out)
    return out


def _metric_values(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in flatten(metrics).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(float(value)):
            out[key] = float(value)
    return out


def _param_values(params: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v)[:_PARAM_LIMIT] for k, v in flatten(params).items()}


class Tracker:
    """A thin wrapper over the MLflow client for one training run."""

    def __init__(self, uri: str | None = None, experiment: str = EXPERIMENT,
                 registered_model: str = REGISTERED_MODEL) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        self.uri = uri or tracking_uri()
        db = _sqlite_path(self.uri)
        if db is not None:
            db.parent.mkdir(parents=True, exist_ok=True)
        self.mlflow = mlflow
        mlflow.set_tracking_uri(self.uri)
        self.client = MlflowClient(tracking_uri=self.uri)
        existing = self.client.get_experiment_by_name(experiment)
        if existing is None:
            self.experiment_id = self.client.create_experiment(
                experiment, artifact_location=artifact_location(self.uri))
        else:
            self.experiment_id = existing.experiment_id
        self.registered_model = registered_model
        self.run_id: str | None = None

    # ----------------------------------------------------------------- runs
    @contextmanager
    def parent_run(self, name: str, tags: Mapping[str, str] | None = None) -> Iterator[str]:
        """The run of one ``train``; ends FAILED if the body raises."""
        with self.mlflow.start_run(experiment_id=self.experiment_id, run_name=name,
                                   tags=dict(tags or {})) as run:
            self.run_id = run.info.run_id
            yield run.info.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.mlflow.log_params(_param_values(params))

    def log_metrics(self, metrics: Mapping[str, Any], prefix: str = "") -> None:
        values = _metric_values(metrics)
        if prefix:
            values = {f"{prefix}{k}": v for k, v in values.items()}
        self.mlflow.log_metrics(values)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self.mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_child(self, name: str, params: Mapping[str, Any], metrics: Mapping[str, Any],
                  tags: Mapping[str, Any] | None = None,
                  tables: Mapping[str, list[dict[str, Any]]] | None = None) -> str:
        """A nested run for one candidate (its chosen params, CV metrics, trial table)."""
        with self.mlflow.start_run(experiment_id=self.experiment_id, run_name=name,
                                   nested=True) as child:
            self.mlflow.set_tags({"candidate": name, **{k: str(v) for k, v in
                                                        (tags or {}).items()}})
            self.log_params(params)
            self.log_metrics(metrics)
            for file_name, rows in (tables or {}).items():
                self.log_table(rows, file_name)
            run_id: str = child.info.run_id
            return run_id

    def log_table(self, rows: list[dict[str, Any]], file_name: str) -> None:
        """A list of dicts as a CSV artifact."""
        import pandas as pd

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / file_name
            pd.DataFrame(rows).to_csv(path, index=False)
            self.mlflow.log_artifact(str(path))

    def log_dataset(self, fingerprint: Mapping[str, Any], source: str,
                    context: str = "training") -> None:
        """The data fingerprint as params/tags, and as an MLflow dataset input."""
        self.log_params({f"data.{k}": v for k, v in fingerprint.items()})
        self.set_tags({"data.sha256": fingerprint["sha256"]})
        try:
            from mlflow.data.meta_dataset import MetaDataset

            # mlflow creates LocalArtifactDatasetSource at import time, and declares
            # Dataset.profile abstract without making Dataset an ABC: both are invisible to
            # (or misread by) a type checker, and work.
            from mlflow.data.sources import (  # type: ignore[attr-defined]
                LocalArtifactDatasetSource,
            )

            dataset = MetaDataset(  # type: ignore[abstract]
                LocalArtifactDatasetSource(source), name=Path(source).name or "synthetic",
                digest=str(fingerprint["sha256"])[:36])
            self.mlflow.log_input(dataset, context=context)
        except Exception as exc:  # the fingerprint params above are the record that matters
            log.warning("mlflow.log_input failed (%s); fingerprint logged as params only", exc)

    def log_artifacts(self, directory: str | Path, artifact_path: str | None = None) -> None:
        self.mlflow.log_artifacts(str(directory), artifact_path=artifact_path)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        self.mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_dict(self, value: Mapping[str, Any], file_name: str) -> None:
        self.mlflow.log_text(json.dumps(value, indent=2, default=str), file_name)

    # ----------------------------------------------------------------- registry
    def register_onnx(self, model_path: str | Path, tags: Mapping[str, Any],
                      pip_requirements: list[str] | None = None) -> int:
        """Log the bundle's ONNX graph as an MLflow model, register it, alias ``champion``.

        Returns the new registry version.
        """
        import mlflow.onnx
        import onnx

        model = onnx.load(str(model_path))
        info = mlflow.onnx.log_model(
            model, name="model", registered_model_name=self.registered_model,
            pip_requirements=pip_requirements or _serving_requirements(),
            save_as_external_data=False,
        )
        version = int(info.registered_model_version)
        for key, value in tags.items():
            self.client.set_model_version_tag(self.registered_model, str(version), key,
                                              str(value))
        self.client.set_registered_model_alias(self.registered_model, CHAMPION_ALIAS,
                                               str(version))
        return version


def _serving_requirements() -> list[str]:
    """The scoring function's pins (requirements-fn.txt), what the ONNX graph runs with."""
    path = REPO_ROOT / "requirements-fn.txt"
    if not path.is_file():
        return ["onnxruntime", "numpy"]
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-")]
