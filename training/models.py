"""The candidates compared on the same stratified folds, and the champion's search.

* ``dummy``: DummyClassifier(strategy="prior"), the floor;
* ``logistic_regression``: impute + scale (numeric and engineered features, with missing
  indicators) and one-hot (categories), C x class_weight grid;
* ``onehot_grid``: the one-hot grid recipe, pandas.get_dummies of the 120 raw fields +
  LGBMClassifier(class_weight="balanced") on an 8-point grid picked by CV AUC, threshold on
  the 100-step grid 0.01..0.99;
* ``champion``: LightGBM on ``training.features`` (the served feature graph), a
  random search (seeded) scored by out-of-fold business cost at the OOF-optimal threshold.

Every candidate is scored on the same folds by out-of-fold (OOF) predictions.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from tqdm import tqdm

from contract import schema
from training.costs import (
    ONEHOT_GRID_THRESHOLDS,
    Costs,
    ThresholdChoice,
    best_threshold,
    confusion_at,
)
from training.evaluate import Fold, auc, oof_predict
from training.features import FEATURE_NAMES

#: Depth cap: the function computes TreeSHAP reason codes per request, whose cost grows
#: with depth (and leaves); 8 keeps it well inside the latency budget.
MAX_DEPTH_CAP = 8

#: LightGBM settings shared by every fit: reproducible, single objective.
LGBM_FIXED: dict[str, Any] = {
    "objective": "binary",
    "verbose": -1,
    "deterministic": True,
}

#: Candidate name of the one-hot grid recipe (card, MLflow child run, summary).
ONEHOT_GRID_NAME = "onehot_grid"
#: The one-hot grid recipe's grid (n_estimators x learning_rate x num_leaves).
ONEHOT_GRID: dict[str, tuple[Any, ...]] = {
    "n_estimators": (100, 200),
    "learning_rate": (0.05, 0.1),
    "num_leaves": (20, 31),
}

#: The champion search's class-weight choices.
CLASS_WEIGHTS: tuple[str | None, ...] = (None, "balanced")

#: Logistic regression grid.
LOGISTIC_GRID: dict[str, tuple[Any, ...]] = {
    "C": (0.003, 0.01, 0.1),
    "class_weight": (None, "balanced"),
}


def _column_kinds(names: Sequence[str]) -> tuple[list[int], list[int]]:
    """(numeric, categorical) column indices of a feature matrix with these names."""
    categorical = [i for i, name in enumerate(names) if name in schema.CATEGORICAL_FIELDS]
    return [i for i in range(len(names)) if i not in categorical], categorical


@dataclass
class CandidateResult:
    """One candidate's chosen configuration and its out-of-fold evaluation."""

    name: str
    params: dict[str, Any]
    oof: np.ndarray
    auc: float
    choice: ThresholdChoice
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def threshold(self) -> float:
        return self.choice.threshold

    @property
    def cost_per_applicant(self) -> float:
        return self.choice.cost_per_applicant

    def summary(self) -> dict[str, Any]:
        return {
            "cv_auc": self.auc,
            "cv_cost_per_applicant": self.cost_per_applicant,
            "threshold": self.threshold,
            "params": self.params,
            "trials": len(self.trials),
            "seconds": round(self.seconds, 2),
        }


def _bar(iterable: Any, desc: str, progress: bool, total: int | None = None) -> tqdm:
    return tqdm(iterable, desc=desc, total=total, unit="trial", file=sys.stderr,
                disable=not progress)


def p_default(model: Any, X: np.ndarray | pd.DataFrame) -> np.ndarray:
    """P(default): the positive-class column of a fitted classifier's predict_proba."""
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    positive: np.ndarray = proba[:, 1]
    return positive


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    """JSON/MLflow-friendly params (numpy scalars -> Python)."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()}


# --------------------------------------------------------------------------- LightGBM


def lgbm(params: dict[str, Any], seed: int, n_jobs: int) -> lgb.LGBMClassifier:
    """An LGBMClassifier with the shared fixed settings.

    Histogram layout is fixed (LightGBM otherwise picks one by timing, which is not
    reproducible): row-wise for one thread, column-wise for several (the faster one there;
    see docs/decisions.md).
    """
    layout = {"force_col_wise": True} if n_jobs > 1 else {"force_row_wise": True}
    return lgb.LGBMClassifier(**{**LGBM_FIXED, **layout, **params}, random_state=seed,
                              n_jobs=n_jobs)


def fit_champion(X: np.ndarray, y: np.ndarray, params: dict[str, Any], seed: int,
                 n_jobs: int, names: Sequence[str] = FEATURE_NAMES) -> lgb.LGBMClassifier:
    """Fit the champion on the feature matrix whose columns are ``names`` (the feature
    graph's, or the model's subset of them: the export reads them back)."""
    model = lgbm(params, seed, n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(X, y, feature_name=list(names))
    return model


def lgbm_oof(X: np.ndarray | pd.DataFrame, y: np.ndarray, folds: Sequence[Fold],
              params: dict[str, Any], seed: int, n_jobs: int, progress: bool,
              desc: str) -> np.ndarray:
    """Out-of-fold P(default) of an LGBMClassifier(params) on X (array or frame)."""

    def rows(idx: np.ndarray) -> np.ndarray | pd.DataFrame:
        return X.iloc[idx] if isinstance(X, pd.DataFrame) else X[idx]

    def fit_predict(train_idx: np.ndarray, val_idx: np.ndarray) -> np.ndarray:
        model = lgbm(params, seed, n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model.fit(rows(train_idx), y[train_idx])
            return p_default(model, rows(val_idx))

    return oof_predict(fit_predict, folds, len(y), desc=desc, progress=progress)


def sample_champion_params(rng: np.random.Generator,
                           class_weights: Sequence[str | None] = CLASS_WEIGHTS
                           ) -> dict[str, Any]:
    """One draw of the champion's random search.

    The ranges favour small, strongly regularised, smoothed trees: their trials score
    close together, so the result depends less on search luck (the comparison with wider
    spaces is in docs/decisions.md). Depth <= 4 also keeps the function's per-request
    TreeSHAP cheap. ``class_weights`` narrows the class-weight choices (the served
    probability is calibrated whichever is drawn: training.calibration).
    """
    params = _clean({
        "num_leaves": int(rng.integers(4, 17)),
        "max_depth": int(rng.integers(2, 5)),
        "learning_rate": float(10 ** rng.uniform(np.log10(0.01), np.log10(0.05))),
        "n_estimators": int(rng.integers(150, 401)),
        "min_child_samples": round(float(10 ** rng.uniform(np.log10(40), np.log10(200)))),
        "reg_lambda": float(10 ** rng.uniform(0, np.log10(50))),
        "colsample_bytree": float(rng.uniform(0.2, 0.6)),
        "subsample": float(rng.uniform(0.6, 0.9)),
        "subsample_freq": 1,
        "path_smooth": float(rng.uniform(0, 20)),
        "class_weight": CLASS_WEIGHTS[int(rng.integers(2))],
    })
    if params["class_weight"] not in class_weights:  # forced: the other draws stay the same
        params["class_weight"] = class_weights[0]
    return params


def fold_cost_se(y: np.ndarray, oof: np.ndarray, folds: Sequence[Fold], threshold: float,
                 costs: Costs) -> float:
    """Standard error of the per-applicant cost across folds (at one threshold)."""
    per_fold = [confusion_at(y[val], oof[val], threshold).cost(costs) / len(val)
                for _, val in folds]
    return float(np.std(per_fold, ddof=1) / np.sqrt(len(per_fold))) if len(folds) > 1 else 0.0


def select_trial(rows: Sequence[dict[str, Any]], rule: str = "one_se") -> int:
    """Index of the chosen trial.

    ``"min_cost"``: the lowest OOF cost (ties: higher AUC). ``"one_se"`` (default): among
    the trials whose OOF cost is within one fold standard error of the lowest, the one
    with the highest AUC. Cost differences smaller than their own fold-to-fold noise do
    not tell trials apart; the ranking quality (AUC) then decides (see docs/decisions.md).
    """
    best = min(range(len(rows)), key=lambda i: (rows[i]["cv_cost_per_applicant"],
                                                 -rows[i]["cv_auc"]))
    if rule == "min_cost":
        return best
    if rule != "one_se":
        raise ValueError(f"unknown selection rule {rule!r}")
    limit = rows[best]["cv_cost_per_applicant"] + rows[best]["fold_cost_se"]
    near = [i for i, r in enumerate(rows) if r["cv_cost_per_applicant"] <= limit]
    return max(near, key=lambda i: (rows[i]["cv_auc"], -rows[i]["cv_cost_per_applicant"]))


def search_champion(
    X: np.ndarray, y: np.ndarray, folds: Sequence[Fold], costs: Costs, trials: int,
    seed: int = 0, n_jobs: int = 1, progress: bool = False,
    on_trial: Callable[[dict[str, Any]], None] | None = None,
    rule: str = "one_se", class_weights: Sequence[str | None] = CLASS_WEIGHTS,
) -> CandidateResult:
    """Seeded random search over LightGBM on the feature matrix, scored by OOF business
    cost at each trial's OOF-optimal threshold; see :func:`select_trial`."""
    if trials < 1:
        raise ValueError("at least one search trial is needed")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    results: list[CandidateResult] = []
    bar = _bar(range(trials), "champion search", progress)
    for i in bar:
        params = sample_champion_params(rng, class_weights)
        assert params["max_depth"] <= MAX_DEPTH_CAP
        oof = lgbm_oof(X, y, folds, params, seed, n_jobs, progress, f"trial {i + 1} folds")
        choice = best_threshold(y, oof, costs)
        row = {"trial": i, **params, "cv_auc": auc(y, oof),
               "cv_cost_per_applicant": choice.cost_per_applicant,
               "fold_cost_se": fold_cost_se(y, oof, folds, choice.threshold, costs),
               "threshold": choice.threshold}
        rows.append(row)
        results.append(CandidateResult("champion", params, oof, row["cv_auc"], choice))
        if on_trial:
            on_trial(row)
        lead = rows[select_trial(rows, rule)]
        bar.set_postfix(cost=f"{lead['cv_cost_per_applicant']:.4f}", auc=f"{lead['cv_auc']:.4f}")
    chosen = select_trial(rows, rule)
    for i, row in enumerate(rows):
        row["chosen"] = i == chosen
    best = results[chosen]
    best.trials = rows
    best.seconds = time.perf_counter() - started
    return best


# --------------------------------------------------------------------------- one-hot grid


def onehot_design_matrix(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The one-hot grid recipe's encoding: pandas.get_dummies of the 120 raw fields (float32).

    ``columns`` (the training matrix's columns) aligns another frame to it: dummies of
    categories unseen in training are dropped, absent ones are zero.
    """
    raw = frame.loc[:, [f.name for f in schema.FEATURE_FIELDS]]
    matrix = pd.get_dummies(raw, columns=list(schema.CATEGORICAL_FIELDS), dtype=np.float32)
    matrix = matrix.astype(np.float32)
    if columns is not None:
        matrix = matrix.reindex(columns=list(columns), fill_value=0.0)
    return matrix


def run_onehot_grid(
    frame: pd.DataFrame, y: np.ndarray, folds: Sequence[Fold], costs: Costs,
    seed: int = 0, n_jobs: int = 1, progress: bool = False,
    matrix: pd.DataFrame | None = None,
) -> CandidateResult:
    """The one-hot grid recipe: its grid, chosen by CV AUC; threshold on the 100-step grid
    by OOF cost."""
    started = time.perf_counter()
    X = onehot_design_matrix(frame) if matrix is None else matrix
    X = X.to_numpy(dtype=np.float32)
    best: CandidateResult | None = None
    rows: list[dict[str, Any]] = []
    grid = list(product(*ONEHOT_GRID.values()))
    for i, values in enumerate(_bar(grid, "one-hot grid recipe", progress)):
        params = {**dict(zip(ONEHOT_GRID, values, strict=True)), "class_weight": "balanced"}
        oof = lgbm_oof(X, y, folds, params, seed, n_jobs, progress, f"grid {i + 1} folds")
        score = auc(y, oof)
        choice = best_threshold(y, oof, costs, ONEHOT_GRID_THRESHOLDS)
        rows.append({"trial": i, **params, "cv_auc": score,
                     "cv_cost_per_applicant": choice.cost_per_applicant,
                     "threshold": choice.threshold})
        if best is None or score > best.auc:
            best = CandidateResult(ONEHOT_GRID_NAME, params, oof, score, choice)
    assert best is not None
    best.trials = rows
    best.seconds = time.perf_counter() - started
    return best


def fit_onehot_grid(frame: pd.DataFrame, y: np.ndarray, params: dict[str, Any], seed: int,
             n_jobs: int) -> tuple[lgb.LGBMClassifier, list[str]]:
    """Refit the one-hot grid recipe's chosen configuration; returns (model, dummy columns)."""
    X = onehot_design_matrix(frame)
    model = lgbm(params, seed, n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(X.to_numpy(dtype=np.float32), y)
    return model, list(X.columns)


def predict_onehot_grid(model: lgb.LGBMClassifier, columns: Sequence[str],
                 frame: pd.DataFrame) -> np.ndarray:
    X = onehot_design_matrix(frame, columns).to_numpy(dtype=np.float32)
    return p_default(model, X)


# --------------------------------------------------------------------------- baselines


def run_dummy(y: np.ndarray, folds: Sequence[Fold], costs: Costs) -> CandidateResult:
    """DummyClassifier(strategy="prior"): every applicant gets the training default rate."""
    started = time.perf_counter()
    X0 = np.zeros((len(y), 1))

    def fit_predict(train_idx: np.ndarray, val_idx: np.ndarray) -> np.ndarray:
        model = DummyClassifier(strategy="prior").fit(X0[train_idx], y[train_idx])
        return p_default(model, X0[val_idx])

    oof = oof_predict(fit_predict, folds, len(y))
    result = CandidateResult("dummy", {"strategy": "prior"}, oof, auc(y, oof),
                             best_threshold(y, oof, costs))
    result.trials = [{"trial": 0, "strategy": "prior", "cv_auc": result.auc,
                      "cv_cost_per_applicant": result.cost_per_applicant}]
    result.seconds = time.perf_counter() - started
    return result


def logistic_pipeline(C: float, class_weight: str | None, seed: int,
                      names: Sequence[str] = FEATURE_NAMES) -> Pipeline:
    """Impute + scale the numeric/engineered features (with missing indicators), one-hot
    the category codes, then an L2 logistic regression."""
    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True,
                                          keep_empty_features=True),
                            StandardScaler())
    categorical = make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0),
                                OneHotEncoder(handle_unknown="ignore"))
    numeric_columns, categorical_columns = _column_kinds(names)
    columns = ColumnTransformer([("numeric", numeric, numeric_columns),
                                 ("categorical", categorical, categorical_columns)])
    model = LogisticRegression(C=C, class_weight=class_weight, max_iter=2000, random_state=seed)
    return Pipeline([("columns", columns), ("model", model)])


def run_logistic(
    X: np.ndarray, y: np.ndarray, folds: Sequence[Fold], costs: Costs, seed: int = 0,
    progress: bool = False, names: Sequence[str] = FEATURE_NAMES,
) -> CandidateResult:
    """LogisticRegression over C x class_weight, chosen by OOF cost (``names``: X's
    columns)."""
    started = time.perf_counter()
    X = np.clip(X, -1e12, 1e12)  # ratios can be huge; keep the scaler's moments finite
    best: CandidateResult | None = None
    rows: list[dict[str, Any]] = []
    grid = list(product(*LOGISTIC_GRID.values()))
    for i, values in enumerate(_bar(grid, "logistic regression grid", progress)):
        params = dict(zip(LOGISTIC_GRID, values, strict=True))

        def fit_predict(train_idx: np.ndarray, val_idx: np.ndarray,
                        params: dict[str, Any] = params) -> np.ndarray:
            model = logistic_pipeline(params["C"], params["class_weight"], seed, names)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X[train_idx], y[train_idx])
            return p_default(model, X[val_idx])

        oof = oof_predict(fit_predict, folds, len(y), desc=f"grid {i + 1} folds",
                          progress=progress)
        choice = best_threshold(y, oof, costs)
        score = auc(y, oof)
        rows.append({"trial": i, **params, "cv_auc": score,
                     "cv_cost_per_applicant": choice.cost_per_applicant})
        if best is None or choice.cost < best.choice.cost:
            best = CandidateResult("logistic_regression", params, oof, score, choice)
    assert best is not None
    best.trials = rows
    best.seconds = time.perf_counter() - started
    return best
