"""Evaluation plots (training/plots.py): each writes one PNG for MLflow at the figure's size,
returns its path, and closes its figure (a training run draws many)."""

from __future__ import annotations

import struct
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from training import plots
from training.costs import Costs


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    p = np.clip(rng.normal(0.15 + 0.25 * y, 0.1), 0, 1)
    return y, p


def test_each_plot_writes_a_png_and_closes_its_figure(tmp_path, scores):
    y, p = scores
    plt.close("all")
    written = {
        "cost": plots.cost_vs_threshold(y, p, 0.2, Costs(), tmp_path / "cost.png"),
        "roc": plots.roc({"champion": (y, p), "dummy": (y, np.full(len(y), 0.1))},
                         tmp_path / "roc.png"),
        "confusion": plots.confusion(y, p, 0.2, tmp_path / "confusion.png"),
        "shap": plots.shap_importance([f"f{i}" for i in range(30)], np.linspace(0, 1, 30),
                                      tmp_path / "shap.png"),
    }
    assert {name: path.name for name, path in written.items()} == {
        "cost": "cost.png", "roc": "roc.png", "confusion": "confusion.png", "shap": "shap.png"}
    assert plt.get_fignums() == []
    # Figure size (inches) x dots per inch; tight_layout keeps the canvas size.
    assert _png_size(written["cost"]) == (704, 462)
    assert _png_size(written["roc"]) == (572, 550)


def test_the_importance_plot_grows_with_the_features_it_lists(tmp_path):
    names = [f"feature_{i}" for i in range(40)]
    values = np.arange(40, dtype=float)
    few = plots.shap_importance(names, values, tmp_path / "few.png", top=5)
    many = plots.shap_importance(names, values, tmp_path / "many.png", top=30)
    assert _png_size(few)[1] < _png_size(many)[1]

