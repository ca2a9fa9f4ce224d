"""Write the model bundle directory (see notes: "Model bundle contract").

``write_bundle`` exports the booster (training/export.py), runs the parity gate on the
hold-out rows and the split-boundary probe, and only if both pass writes:

* model.onnx        the whole request-fields -> probability graph;
* shap_paths.npz    training.treeshap_export.export_paths(booster);
* reference.csv.gz  reference rows, the 120 applicant fields only (drift baseline);
* reference_bins.json  aggregates of those rows per feature (training.reference_bins);
* golden_set.json   hold-out applications with their expected answers (training/golden.py);
* reference_scores.json  the graph's probabilities on the hold-out rows + the threshold;
* model_card.json   card + features, onnx_sha256, parity, probe, threshold.

Files are written into a temporary sibling directory and moved into place only once
everything succeeded, so a failed gate leaves ``output_dir`` untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd

from contract import schema
from contract.bundle import (
    BUNDLE_FILES,
    CARD_FILE,
    GOLDEN_FILE,
    MODEL_FILE,
    REFERENCE_BINS_FILE,
    REFERENCE_FILE,
    REFERENCE_SCORES_FILE,
    SHAP_FILE,
    ModelCard,
)
from contract.graph import PROBABILITY_OUTPUT
from training import export, golden
from training import features as fe
from training.features import compute_features, frame_features
from training.reference_bins import reference_bins

#: Rows the split-boundary probe nudges (three probes each).
PROBE_ROWS = 2000


def write_bundle(output_dir: str | Path, booster: lightgbm.Booster, card: ModelCard,
                 holdout: pd.DataFrame, reference: pd.DataFrame, threshold: float,
                 probe_rows: int = PROBE_ROWS, seed: int = 0) -> ModelCard:
    """Export, gate and write the bundle; return the final model card.

    Raises export.ParityError (and writes nothing) when the ONNX graph disagrees with
    LightGBM on the hold-out rows or routes any probe differently from LightGBM.
    """
    model = export.export_model(booster)
    holdout_inputs = schema.encode_columns(holdout)
    parity = export.check_parity(model, booster, holdout_inputs, threshold)
    names = export.booster_features(booster)
    probe = export.probe_split_boundaries(model, booster,
                                          compute_features(holdout_inputs, names),
                                          rows=probe_rows, seed=seed, threshold=threshold)
    probe["passed"] = probe["flips"] == 0 and probe.get("decisions_differing", 0) == 0
    if not probe["passed"]:
        raise export.ParityError("ONNX graph routes split-boundary probes differently", probe)

    model_bytes = model.SerializeToString()
    golden_set = golden.build(model_bytes, booster, holdout, threshold, list(names),
                              seed=seed, card=card)
    golden_bytes = golden.dumps(golden_set)
    golden_summary = golden.summary(golden_set, golden_bytes)
    final_card: ModelCard = {
        **card,
        "features": list(names),
        "onnx_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "parity": parity,
        "probe": probe,
        "threshold": float(threshold),
        "golden_sha256": golden_summary.pop("sha256"),
        "golden": golden_summary,
    }
    missing = [f.name for f in schema.FEATURE_FIELDS if f.name not in reference.columns]
    if missing:
        raise ValueError(f"reference rows lack schema fields: {missing[:5]}")

    output = Path(output_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        _write_files(staging, model_bytes, booster, reference, golden_bytes, names)
        write_reference_scores(staging / REFERENCE_SCORES_FILE, model, holdout_inputs,
                               threshold)
        write_card(staging / CARD_FILE, final_card)
        move_into_place(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final_card


def _write_files(staging: Path, model_bytes: bytes, booster: lightgbm.Booster,
                 reference: pd.DataFrame, golden_bytes: bytes,
                 names: tuple[str, ...]) -> None:
    """Every bundle file but the card, into the staging directory."""
    from training.treeshap_export import export_paths

    (staging / MODEL_FILE).write_bytes(model_bytes)
    shap_arrays: dict[str, Any] = export_paths(booster)
    np.savez(staging / SHAP_FILE, **shap_arrays)
    reference.loc[:, [f.name for f in schema.FEATURE_FIELDS]].to_csv(
        staging / REFERENCE_FILE, index=False, compression={"method": "gzip", "mtime": 0})
    bins = reference_bins(reference, frame_features(reference, names), names)
    (staging / REFERENCE_BINS_FILE).write_text(
        json.dumps(bins, separators=(",", ":"), allow_nan=False))
    (staging / GOLDEN_FILE).write_bytes(golden_bytes)


def write_reference_scores(path: Path, model: Any, inputs: dict[str, np.ndarray],
                           threshold: float) -> None:
    """The graph's probabilities on the hold-out rows and the threshold: the drift job's
    baseline for the score distribution and the decline rate."""
    scores = export.session(model).run([PROBABILITY_OUTPUT], fe.validate_inputs(inputs))[0]
    path.write_text(json.dumps({"source": "hold-out rows", "threshold": float(threshold),
                                "probabilities": [float(p) for p in scores]}) + "\n")


def write_card(path: Path, card: ModelCard) -> None:
    """Write a model card as indented JSON (numpy scalars and arrays converted)."""
    path.write_text(json.dumps(card, indent=2, sort_keys=False, default=_json_default) + "\n")


def move_into_place(staging: Path, output: Path) -> None:
    """Move the staged files into output (created if absent); the card goes last."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.exists():
        os.replace(staging, output)
        return
    for name in BUNDLE_FILES:  # each replace is atomic; the card (read first) is last
        os.replace(staging / name, output / name)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
