"""``train`` end to end: data -> candidates -> champion -> bundle -> MLflow registry.

1. Read and validate the data (nothing is written before it passes), fingerprint it.
2. Hold out a stratified test split. Everything that chooses (model comparison,
   hyper-parameter search, threshold) uses stratified k-fold out-of-fold predictions on the
   training part only.
3. Compare Dummy, LogisticRegression, the one-hot grid recipe and the LightGBM champion
   search on the same folds ("comparison folds"; on big data a stratified subsample of the
   training part, see ``search_rows``).
4. Re-evaluate the chosen champion (and the one-hot grid recipe) with fresh folds over the
   whole training part ("evaluation folds"): the champion's threshold is the cost-optimal
   one on these OOF predictions.
5. Calibrate: a Platt map fitted on those OOF predictions (training.calibration) is folded
   into the champion, the threshold is mapped with it (every decision unchanged), and a
   model whose OOF calibration error is above ``max_ece`` is refused. Refit on the training
   part; report test metrics with bootstrap CIs.
6. Export the bundle (parity gate + probe) to a staging folder, register the ONNX model in
   MLflow with alias ``champion``, stamp the registry version into the card, log plots and
   artifacts, and only then move the bundle into ``output``.

Each step is one function below returning a small frozen result; ``_train`` runs them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contract import schema
from contract.bundle import CARD_FILE, MODEL_FILE, ModelCard
from contract.explain import DEFAULT_PROTECTED
from training import calibration as calib
from training import card as card_mod
from training import plots
from training.costs import ONEHOT_GRID_THRESHOLDS, Costs, ThresholdChoice, best_threshold
from training.data import (
    DEFAULT_SYNTHETIC_ROWS,
    Dataset,
    check_trainable,
    find_descriptions,
    fingerprint,
    load_dataset,
    load_descriptions,
    validate,
)
from training.evaluate import (
    Fold,
    auc,
    bootstrap_metrics,
    make_folds,
    metrics_at,
    split_holdout,
)
from training.models import (
    CLASS_WEIGHTS,
    ONEHOT_GRID_NAME,
    CandidateResult,
    fit_champion,
    fit_onehot_grid,
    lgbm_oof,
    onehot_design_matrix,
    predict_onehot_grid,
    run_dummy,
    run_logistic,
    run_onehot_grid,
    search_champion,
)
from training.outcome_reference import outcome_reference
from training.tracking import EXPERIMENT, REGISTERED_MODEL, Tracker

#: Below this many rows a LightGBM fit runs on one thread, above on every core (up to 8).
SINGLE_THREAD_ROWS = 20_000


@dataclass
class TrainConfig:
    output: Path
    data: Path | None = None
    rows: int = DEFAULT_SYNTHETIC_ROWS  # synthetic rows when no data file is given
    seed: int = 0
    folds: int = 5
    trials: int = 20
    costs: Costs = field(default_factory=Costs)
    descriptions: Path | None = None
    test_size: float = 0.2
    #: Above this many training rows, the comparison and search use a stratified subsample
    #: of this size (and at most ``search_folds`` folds); the final CV/fit use every row.
    search_rows: int = 40_000
    search_folds: int = 3
    reference_rows: int = 5_000
    bootstrap: int = 1_000
    n_jobs: int | None = None  # LightGBM threads; None = 1 for small fits, all cores for big
    tracking_uri: str | None = None
    experiment: str = EXPERIMENT
    registered_model: str = REGISTERED_MODEL
    progress: bool = True
    #: Applicant fields that never reach the model (nor any feature computed from them).
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    #: Also run the search with the protected fields, to report what excluding them costs.
    compare_protected: bool = True
    #: Refuse to export when the calibrated OOF expected calibration error is above this.
    max_ece: float = calib.DEFAULT_MAX_ECE
    #: The champion search's class-weight choices (one of them forces it).
    class_weights: tuple[str | None, ...] = CLASS_WEIGHTS
    #: Less discriminatory alternatives (training.lda): cost tolerance of the rule (None:
    #: no search), proxies dropped/constrained, the attribute whose ratio is maximised.
    lda_tolerance: float | None = 0.01
    lda_proxies: int = 5
    lda_attribute: str = "age"

    def check(self) -> None:
        if self.folds < 2:
            raise ValueError("--folds must be at least 2")
        if self.trials < 1:
            raise ValueError("--trials must be at least 1")
        if not 0 < self.test_size < 1:
            raise ValueError("test size must be in (0, 1)")
        if self.data is None and self.rows < 100:
            raise ValueError("--rows must be at least 100")
        if self.output.exists() and not self.output.is_dir():
            raise ValueError(f"--output {self.output} exists and is not a directory")
        if not 0 < self.max_ece <= 1:
            raise ValueError("--max-ece must be in (0, 1]")
        if self.lda_tolerance is not None and not 0 <= self.lda_tolerance < 1:
            raise ValueError("--lda-tolerance must be in [0, 1) (0.01 = +1% cost)")
        if self.descriptions is not None and not Path(self.descriptions).is_file():
            raise FileNotFoundError(f"descriptions file not found: {self.descriptions}")


@dataclass
class TrainResult:
    output: Path
    card: ModelCard
    run_id: str
    model_version: int
    comparison: dict[str, dict[str, Any]]
    seconds: float


# --------------------------------------------------------------------------- stage results


@dataclass(frozen=True)
class Prepared:
    """The validated data, its labels and the column descriptions for the card."""

    dataset: Dataset
    y: np.ndarray
    descriptions: dict[str, str]


@dataclass(frozen=True)
class Holdout:
    """The stratified train/test split, frames, labels and feature matrices (the model's
    features ``names``: no protected field, no feature computed from one)."""

    names: tuple[str, ...]
    train_frame: pd.DataFrame
    test_frame: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    X_train: np.ndarray
    X_test: np.ndarray


@dataclass(frozen=True)
class SearchPlan:
    """Where the candidates are compared, and the folds and threads of every fit.

    ``rows`` are positions in the training part: all of them, or a stratified subsample
    when the training part has more than ``search_rows`` rows.
    """

    rows: np.ndarray
    names: tuple[str, ...]
    subsampled: bool
    frame: pd.DataFrame
    y: np.ndarray
    X: np.ndarray
    folds: list[Fold]
    eval_folds: list[Fold]
    small_jobs: int
    big_jobs: int

    @property
    def k(self) -> int:
        return len(self.folds)


@dataclass(frozen=True)
class Comparison:
    """The four candidates on the comparison folds."""

    dummy: CandidateResult
    logistic: CandidateResult
    onehot_grid: CandidateResult
    champion_search: CandidateResult

    @property
    def results(self) -> tuple[CandidateResult, ...]:
        return (self.dummy, self.logistic, self.onehot_grid, self.champion_search)

    def summary(self) -> dict[str, dict[str, Any]]:
        return {r.name: r.summary() for r in self.results}


@dataclass(frozen=True)
class Evaluation:
    """The champion on the evaluation folds, and the one-hot grid recipe as reported.

    ``onehot_grid_y`` are the labels its OOF predictions belong to; ``onehot_grid_scope``
    says which folds those were (folds, rows, scope).
    """

    champion: CandidateResult
    onehot_grid: CandidateResult
    onehot_grid_y: np.ndarray
    onehot_grid_scope: dict[str, Any]

    @property
    def threshold(self) -> float:
        return self.champion.threshold


@dataclass(frozen=True)
class Calibration:
    """The Platt map fitted on the champion's OOF predictions, and the threshold before it
    (``Evaluation.threshold`` is the mapped one)."""

    platt: calib.Platt
    raw_threshold: float
    raw_oof: np.ndarray


@dataclass(frozen=True)
class TestScores:
    """The refit (calibrated) champion and the one-hot grid recipe scored on the test rows;
    ``p_test_raw`` is the refit champion before calibration."""

    booster: Any
    p_test: np.ndarray
    p_onehot_grid_test: np.ndarray
    p_test_raw: np.ndarray


@dataclass(frozen=True)
class Registered:
    """The bundle's final card and the MLflow registry version of its model."""

    card: ModelCard
    version: int


# --------------------------------------------------------------------------- helpers

_T0 = [time.perf_counter()]


def _say(config: TrainConfig, message: str) -> None:
    if config.progress:
        elapsed = time.perf_counter() - _T0[0]
        print(f"[train {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def _jobs(config: TrainConfig, rows: int) -> int:
    """LightGBM threads per fit: one for small fits, every core (up to 8) for big ones
    (the crossover is measured in docs/decisions.md)."""
    if config.n_jobs:
        return config.n_jobs
    return 1 if rows < SINGLE_THREAD_ROWS else max(1, min(os.cpu_count() or 1, 8))


def load_data(config: TrainConfig) -> Dataset:
    """The validated training frame: the --data file, or a fresh synthetic sample."""
    if config.data is not None:
        _say(config, f"reading {config.data}")
        return load_dataset(config.data, progress=config.progress)
    from training import synthetic

    _say(config, f"generating {config.rows:,} synthetic rows (seed {config.seed})")
    raw = synthetic.generate(config.rows, seed=config.seed, progress=config.progress)
    source = f"synthetic(rows={config.rows}, seed={config.seed})"
    frame = validate(raw, source=source)
    return Dataset(frame=frame, source=source,
                   fingerprint={**fingerprint(frame), "source": source})


def _subsample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    if size >= len(y):
        return rows
    picked, _ = train_test_split(rows, train_size=size, stratify=y, random_state=seed)
    return np.sort(picked)


def _cv_metrics(y: np.ndarray, result: CandidateResult, costs: Costs) -> dict[str, float]:
    m = metrics_at(y, result.oof, result.threshold, costs)
    return {k: m[k] for k in ("auc", "cost_per_applicant", "cost_vs_accept_all", "recall",
                              "precision", "decline_rate")}


def _flat_ci(boot: dict[str, dict[str, float]]) -> dict[str, float]:
    out = {}
    for name, values in boot.items():
        out[name] = values["value"]
        out[f"{name}_ci_low"] = values["ci_low"]
        out[f"{name}_ci_high"] = values["ci_high"]
    return out


def _shap_importance(booster: Any, X: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """Global importance: mean |pred_contrib| per feature (LightGBM's exact TreeSHAP)."""
    rng = np.random.default_rng(seed)
    take = rng.choice(len(X), size=min(rows, len(X)), replace=False) if len(X) > rows else None
    sample = X if take is None else X[np.sort(take)]
    contrib = booster.predict(sample, pred_contrib=True)
    importance: np.ndarray = np.abs(contrib[:, :-1]).mean(axis=0)
    return importance


# --------------------------------------------------------------------------- the run


def train(config: TrainConfig) -> TrainResult:
    """Run the whole pipeline; see the module docstring. Raises before writing anything
    when the data or the arguments are invalid."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the logistic regression is small, and a multi-threaded BLAS on a
    # shared machine is far slower (docs/decisions.md).
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(config)


def _train(config: TrainConfig) -> TrainResult:
    started = _T0[0] = time.perf_counter()
    prepared = _prepare(config)
    holdout = _split(config, prepared)
    plan = _plan_search(config, holdout)
    tracker = Tracker(config.tracking_uri, config.experiment, config.registered_model)
    with tracker.parent_run("train", tags={"entry": "python -m training train"}) as run_id:
        _log_run(tracker, config, prepared.dataset, holdout, plan)
        comparison = _compare(config, plan, tracker)
        compliance = _compliance(config, tracker, plan, comparison.champion_search)
        lda_entry, holdout, plan, champion = _lda(config, tracker, holdout, plan, comparison)
        evaluation, calibration = _calibrate(config, holdout, _evaluate(
            config, holdout, plan, replace(comparison, champion_search=champion)))
        scores = _score_test(config, holdout, plan, evaluation, calibration)
        metrics = _test_metrics(config, holdout, plan, comparison, evaluation, scores, tracker)
        fairness_report = _fairness(config, tracker, holdout, evaluation, scores)
        card = _card(config, prepared, holdout, plan, comparison, evaluation, metrics, run_id)
        card["calibration"] = _calibration_report(config, tracker, holdout, plan, comparison,
                                                  evaluation, calibration, scores)
        card.update(_responsible_keys(config, prepared, holdout, compliance,
                                      fairness_report))
        card["outcome_reference"] = outcome_reference(holdout.y_train, evaluation.champion.oof,
                                                      evaluation.threshold)
        if lda_entry is not None:
            card["less_discriminatory_alternatives"] = lda_entry
        summary = {"comparison": comparison.summary(), "metrics": metrics,
                   "compliance": compliance, "fairness": fairness_report,
                   "less_discriminatory_alternatives": lda_entry,
                   "config": _config_dict(config)}
        registered = _export_and_register(config, tracker, prepared.dataset, holdout,
                                          evaluation, scores, card, run_id, summary)
    seconds = time.perf_counter() - started
    _say(config, f"done in {seconds:.0f} s: bundle {config.output}, "
                 f"model version {registered.version}")
    return TrainResult(output=config.output, card=registered.card, run_id=run_id,
                       model_version=registered.version, comparison=comparison.summary(),
                       seconds=seconds)


def _prepare(config: TrainConfig) -> Prepared:
    """Check the arguments, read and validate the data, find the column descriptions."""
    config.check()
    dataset = load_data(config)
    y = dataset.frame[schema.TARGET_FIELD].to_numpy(dtype=np.int64)
    check_trainable(y, config.folds, config.test_size)
    descriptions = load_descriptions(config.descriptions or find_descriptions(config.data))
    _say(config, f"data ok: {len(y):,} rows, {int(y.sum()):,} defaults "
                 f"({y.mean():.2%}), sha256 {dataset.fingerprint['sha256'][:12]}")
    return Prepared(dataset=dataset, y=y, descriptions=descriptions)


def _split(config: TrainConfig, prepared: Prepared) -> Holdout:
    """Hold out the stratified test rows; compute every row's features once."""
    from training.features import frame_features, model_features

    frame, y = prepared.dataset.frame, prepared.y
    train_idx, test_idx = split_holdout(y, config.test_size, config.seed)
    names = model_features(config.protected)
    _say(config, f"computing features with the ONNX feature graph ({len(names)} model "
                 f"features; protected, never used: {', '.join(config.protected) or 'none'})")
    X_all = frame_features(frame, names)
    return Holdout(
        names=names,
        train_frame=frame.iloc[train_idx].reset_index(drop=True),
        test_frame=frame.iloc[test_idx].reset_index(drop=True),
        y_train=y[train_idx], y_test=y[test_idx],
        X_train=X_all[train_idx], X_test=X_all[test_idx],
    )


def _plan_search(config: TrainConfig, holdout: Holdout) -> SearchPlan:
    """The comparison rows and folds, the evaluation folds and the threads per fit."""
    y_train = holdout.y_train
    rows = _subsample(y_train, config.search_rows, config.seed)
    subsampled = len(rows) < len(y_train)
    k = min(config.folds, config.search_folds) if subsampled else config.folds
    y = y_train[rows]
    plan = SearchPlan(
        rows=rows, names=holdout.names, subsampled=subsampled,
        frame=holdout.train_frame.iloc[rows].reset_index(drop=True),
        y=y, X=holdout.X_train[rows],
        folds=make_folds(y, k, config.seed),
        eval_folds=make_folds(y_train, config.folds, config.seed + 1),
        small_jobs=_jobs(config, len(rows)), big_jobs=_jobs(config, len(y_train)),
    )
    _say(config, f"train {len(y_train):,} / test {len(holdout.y_test):,} rows; comparison on "
                 f"{len(rows):,} rows x {k} folds")
    return plan


def _log_run(tracker: Tracker, config: TrainConfig, dataset: Dataset, holdout: Holdout,
             plan: SearchPlan) -> None:
    costs = config.costs
    tracker.log_params({
        "seed": config.seed, "folds": config.folds, "trials": config.trials,
        "cost_fn": costs.fn, "cost_fp": costs.fp, "test_size": config.test_size,
        "search_rows": len(plan.rows), "search_folds": plan.k,
        "rows_train": len(holdout.y_train), "rows_test": len(holdout.y_test),
        "source": dataset.source,
    })
    tracker.log_dataset(dataset.fingerprint, dataset.source)


def _compare(config: TrainConfig, plan: SearchPlan, tracker: Tracker) -> Comparison:
    """Every candidate on the same comparison folds; one MLflow child run each."""
    costs, seed, progress = config.costs, config.seed, config.progress
    _say(config, "comparing candidates on the same folds")
    comparison = Comparison(
        dummy=run_dummy(plan.y, plan.folds, costs),
        logistic=run_logistic(plan.X, plan.y, plan.folds, costs, seed, progress=progress,
                              names=plan.names),
        onehot_grid=run_onehot_grid(plan.frame, plan.y, plan.folds, costs, seed,
                                    plan.small_jobs, progress=progress),
        champion_search=search_champion(plan.X, plan.y, plan.folds, costs, config.trials,
                                        seed, plan.small_jobs, progress=progress,
                                        class_weights=config.class_weights),
    )
    for r in comparison.results:
        tracker.log_child(
            r.name, r.params,
            {"cv_auc": r.auc, "cv_cost_per_applicant": r.cost_per_applicant,
             "threshold": r.threshold, "seconds": r.seconds},
            tags={"folds": "comparison"}, tables={f"{r.name}_trials.csv": r.trials})
        tracker.log_metrics({f"compare_{r.name}_cv_auc": r.auc,
                             f"compare_{r.name}_cv_cost_per_applicant": r.cost_per_applicant})
        _say(config, f"  {r.name:<20} CV AUC {r.auc:.4f}  cost/applicant "
                     f"{r.cost_per_applicant:.4f}  threshold {r.threshold:.4f}")
    tracker.log_table(comparison.champion_search.trials, "champion_search_trials.csv")
    return comparison


def _evaluate(config: TrainConfig, holdout: Holdout, plan: SearchPlan,
              comparison: Comparison) -> Evaluation:
    """The champion's params on fresh folds over the whole training part: its OOF
    predictions and cost-optimal threshold. The one-hot grid recipe gets the same folds,
    except on subsampled (big) data, where its comparison-fold result stands: its CV over
    every training row would cost more than a reference is worth (docs/decisions.md)."""
    y_train, costs = holdout.y_train, config.costs
    params, onehot_grid = comparison.champion_search.params, comparison.onehot_grid
    _say(config, f"evaluating the champion on {config.folds} fresh folds over "
                 f"{len(y_train):,} rows")
    oof = lgbm_oof(holdout.X_train, y_train, plan.eval_folds, params, config.seed,
                   plan.big_jobs, config.progress, "champion folds")
    champion = CandidateResult("champion", params, oof, auc(y_train, oof),
                               best_threshold(y_train, oof, costs))
    if plan.subsampled:
        scope = {"folds": plan.k, "rows": len(plan.y), "scope": "comparison"}
        return Evaluation(champion, onehot_grid, plan.y, scope)
    matrix = onehot_design_matrix(holdout.train_frame).to_numpy(dtype=np.float32)
    onehot_oof = lgbm_oof(matrix, y_train, plan.eval_folds, onehot_grid.params, config.seed,
                          plan.big_jobs, config.progress, "one-hot grid recipe folds")
    del matrix
    evaluated = CandidateResult(
        ONEHOT_GRID_NAME, onehot_grid.params, onehot_oof, auc(y_train, onehot_oof),
        best_threshold(y_train, onehot_oof, costs, ONEHOT_GRID_THRESHOLDS))
    scope = {"folds": config.folds, "rows": len(y_train), "scope": "evaluation"}
    return Evaluation(champion, evaluated, y_train, scope)


def _calibrate(config: TrainConfig, holdout: Holdout,
               evaluation: Evaluation) -> tuple[Evaluation, Calibration]:
    """Fit the Platt map on the champion's OOF predictions, refuse it above ``max_ece``, and
    return the evaluation on the calibrated scale (OOF probabilities and threshold mapped;
    AUC, cost and every decision unchanged)."""
    raw, y = evaluation.champion, holdout.y_train
    platt = calib.fit_platt(raw.oof, y)
    oof = platt.probability(raw.oof)
    threshold = float(platt.probability(raw.threshold))
    oof_ece = calib.ece(oof, y)
    _say(config, f"calibration: Platt a={platt.a:.4f} b={platt.b:+.4f}; OOF ECE "
                 f"{calib.ece(raw.oof, y):.4f} -> {oof_ece:.4f}; threshold "
                 f"{raw.threshold:.4f} -> {threshold:.4f}")
    calib.check_limit(oof_ece, config.max_ece)
    changed = int(np.sum((oof >= threshold) != (raw.oof >= raw.threshold)))
    if changed:
        raise calib.CalibrationError(f"calibration changed {changed} out-of-fold decisions")
    choice = ThresholdChoice(threshold, raw.choice.cost, raw.choice.confusion)
    champion = CandidateResult(raw.name, raw.params, oof, auc(y, oof), choice, raw.trials,
                               raw.seconds)
    calibrated = Evaluation(champion, evaluation.onehot_grid, evaluation.onehot_grid_y,
                            evaluation.onehot_grid_scope)
    return calibrated, Calibration(platt, raw.threshold, raw.oof)


def _score_test(config: TrainConfig, holdout: Holdout, plan: SearchPlan,
                evaluation: Evaluation, calibration: Calibration) -> TestScores:
    """Refit the champion and the one-hot grid recipe on the training part, fold the
    calibration into the champion; score the test rows."""
    _say(config, "refitting the champion and the one-hot grid recipe on the training part")
    model = fit_champion(holdout.X_train, holdout.y_train, evaluation.champion.params,
                         config.seed, plan.big_jobs, plan.names)
    p_test_raw = np.asarray(model.booster_.predict(holdout.X_test))
    booster = calib.calibrated_booster(model.booster_, calibration.platt)
    p_test = np.asarray(booster.predict(holdout.X_test))
    changed = int(np.sum((p_test >= evaluation.threshold)
                         != (p_test_raw >= calibration.raw_threshold)))
    if changed:
        raise calib.CalibrationError(f"calibration changed {changed} test decisions")
    onehot_model, columns = fit_onehot_grid(holdout.train_frame, holdout.y_train,
                                            evaluation.onehot_grid.params, config.seed,
                                            plan.big_jobs)
    p_onehot = predict_onehot_grid(onehot_model, columns, holdout.test_frame)
    return TestScores(booster=booster, p_test=p_test, p_onehot_grid_test=p_onehot,
                      p_test_raw=p_test_raw)


def _calibration_report(config: TrainConfig, tracker: Tracker, holdout: Holdout,
                        plan: SearchPlan, comparison: Comparison, evaluation: Evaluation,
                        calibration: Calibration, scores: TestScores) -> dict[str, Any]:
    """The card's ``calibration``: the map, ECE and Brier (OOF and test, bootstrap CIs),
    reliability tables, the figures before the map, and every candidate calibrated alike."""
    platt, resamples, seed = calibration.platt, config.bootstrap, config.seed
    y_train, y_test = holdout.y_train, holdout.y_test
    candidates = {}
    for r in comparison.results:  # each candidate calibrated by the same method, its own map
        entry: dict[str, Any] = {"cv_ece_uncalibrated": calib.ece(r.oof, plan.y)}
        try:
            own = calib.fit_platt(r.oof, plan.y)
            entry |= {"a": own.a, "b": own.b,
                      "cv_ece": calib.ece(own.probability(r.oof), plan.y)}
        except calib.CalibrationError as exc:  # the dummy's near-constant scores
            entry |= {"a": None, "b": None, "cv_ece": None, "not_calibrated": str(exc)}
        candidates[r.name] = entry
    report: dict[str, Any] = {
        **platt.to_dict(),
        "description": calib.DESCRIPTION,
        "fitted_on": f"the champion's out-of-fold predictions ({len(y_train):,} rows, "
                     f"{config.folds} evaluation folds); never the test rows",
        "max_ece": config.max_ece,
        "ece_bins": calib.ECE_BINS,
        "threshold": evaluation.threshold,
        "threshold_uncalibrated": calibration.raw_threshold,
        "decisions_changed": {"oof": 0, "test": 0},
        "oof": calib.assess(evaluation.champion.oof, y_train, resamples, seed),
        "test": calib.assess(scores.p_test, y_test, resamples, seed),
        "uncalibrated": {
            "oof": {"ece": calib.ece(calibration.raw_oof, y_train),
                    "brier": calib.brier(calibration.raw_oof, y_train),
                    "mean_predicted": float(np.mean(calibration.raw_oof)),
                    "auc": auc(y_train, calibration.raw_oof)},
            "test": {"ece": calib.ece(scores.p_test_raw, y_test),
                     "brier": calib.brier(scores.p_test_raw, y_test),
                     "mean_predicted": float(np.mean(scores.p_test_raw)),
                     "auc": auc(y_test, scores.p_test_raw)}},
        "candidates": candidates,
    }
    tracker.log_metrics({"calibration_a": platt.a, "calibration_b": platt.b,
                         **{f"calibration_{part}_{name}": report[part][name]["value"]
                            for part in ("oof", "test") for name in ("ece", "brier")},
                         "calibration_oof_ece_uncalibrated": report["uncalibrated"]["oof"]["ece"],
                         "calibration_test_ece_uncalibrated":
                             report["uncalibrated"]["test"]["ece"]})
    test = report["test"]
    _say(config, f"calibration: test ECE {report['uncalibrated']['test']['ece']:.4f} -> "
                 f"{test['ece']['value']:.4f}; mean PD {test['mean_predicted']:.4f} vs "
                 f"observed {test['observed_rate']:.4f}")
    return report


def _test_metrics(config: TrainConfig, holdout: Holdout, plan: SearchPlan,
                  comparison: Comparison, evaluation: Evaluation, scores: TestScores,
                  tracker: Tracker) -> dict[str, Any]:
    """The card's ``metrics``: CV, test with bootstrap CIs, the one-hot grid recipe's and
    the comparison's; logged to MLflow as well."""
    costs, y_test, threshold = config.costs, holdout.y_test, evaluation.threshold
    onehot = evaluation.onehot_grid
    _say(config, f"bootstrapping test metrics ({config.bootstrap} resamples)")
    test_boot = bootstrap_metrics(y_test, scores.p_test, threshold, costs, config.bootstrap,
                                  config.seed)
    onehot_boot = bootstrap_metrics(y_test, scores.p_onehot_grid_test, onehot.threshold, costs,
                                    config.bootstrap, config.seed)
    cv = {**_cv_metrics(holdout.y_train, evaluation.champion, costs), "folds": config.folds,
          "rows": len(holdout.y_train), "scope": "evaluation"}
    onehot_cv = {**_cv_metrics(evaluation.onehot_grid_y, onehot, costs),
                 **evaluation.onehot_grid_scope}
    confusion = metrics_at(y_test, scores.p_test, threshold, costs)
    compared = ("cv_auc", "cv_cost_per_applicant", "threshold")
    metrics = {
        "cv": cv,
        "test": {**test_boot, "rows": len(y_test), "bootstrap_resamples": config.bootstrap,
                 "confusion": {k: v for k, v in confusion.items()
                               if k in ("tn", "fp", "fn", "tp")}},
        ONEHOT_GRID_NAME: {"cv": onehot_cv, "test": onehot_boot,
                           "threshold": onehot.threshold, "params": onehot.params},
        "comparison": {
            "rows": len(plan.rows), "folds": plan.k,
            **{name: {k: v for k, v in s.items() if k in compared}
               for name, s in comparison.summary().items()},
        },
    }
    _log_metrics(tracker, config, cv, test_boot, onehot_cv, onehot_boot, evaluation)
    return metrics


def _log_metrics(tracker: Tracker, config: TrainConfig, cv: dict[str, Any],
                 test_boot: dict[str, dict[str, float]], onehot_cv: dict[str, Any],
                 onehot_boot: dict[str, dict[str, float]], evaluation: Evaluation) -> None:
    threshold, prefix = evaluation.threshold, ONEHOT_GRID_NAME
    tracker.log_metrics({f"cv_{k}": v for k, v in cv.items()})
    tracker.log_metrics({f"test_{k}": v for k, v in _flat_ci(test_boot).items()})
    tracker.log_metrics({f"{prefix}_cv_{k}": v for k, v in onehot_cv.items()})
    tracker.log_metrics({f"{prefix}_test_{k}": v for k, v in _flat_ci(onehot_boot).items()})
    tracker.log_metrics({"threshold": threshold,
                         f"{prefix}_threshold": evaluation.onehot_grid.threshold})
    tracker.log_params({f"champion.{k}": v for k, v in evaluation.champion.params.items()})
    _say(config, f"champion: CV AUC {cv['auc']:.4f} cost {cv['cost_per_applicant']:.4f} "
                 f"| one-hot grid recipe: CV AUC {onehot_cv['auc']:.4f} cost "
                 f"{onehot_cv['cost_per_applicant']:.4f} ({onehot_cv['scope']} folds)")
    _say(config, f"test: AUC {test_boot['auc']['value']:.4f} "
                 f"[{test_boot['auc']['ci_low']:.4f}, {test_boot['auc']['ci_high']:.4f}], "
                 f"cost/applicant {test_boot['cost_per_applicant']['value']:.4f}, "
                 f"threshold {threshold:.4f}")


def _reference_rows(config: TrainConfig, train_frame: pd.DataFrame) -> pd.DataFrame:
    """The drift baseline: up to ``reference_rows`` training rows, drawn with the seed."""
    rng = np.random.default_rng(config.seed)
    size = min(config.reference_rows, len(train_frame))
    positions = np.sort(rng.choice(len(train_frame), size, replace=False))
    return train_frame.iloc[positions].reset_index(drop=True)


def _card(config: TrainConfig, prepared: Prepared, holdout: Holdout, plan: SearchPlan,
          comparison: Comparison, evaluation: Evaluation, metrics: dict[str, Any],
          run_id: str) -> ModelCard:
    """The model card as known before export and registration."""
    dataset, first = prepared.dataset, ("sha256", "rows", "columns")
    fingerprint_entry = ({k: dataset.fingerprint[k] for k in first}
                         | {k: v for k, v in dataset.fingerprint.items() if k not in first})
    return card_mod.build_card(
        fingerprint=fingerprint_entry, costs=config.costs.to_dict(),
        threshold=evaluation.threshold, metrics=metrics, candidates=comparison.summary(),
        hyperparameters=evaluation.champion.params,
        training={
            "seed": config.seed, "folds": config.folds, "trials": config.trials,
            "test_size": config.test_size, "rows_train": len(holdout.y_train),
            "rows_test": len(holdout.y_test), "comparison_rows": len(plan.rows),
            "comparison_folds": plan.k,
            "reference_rows": min(config.reference_rows, len(holdout.train_frame)),
            "champion_selection": "random search scored by OOF cost at each trial's "
                                  "OOF-optimal threshold; among trials within one fold "
                                  "standard error of the lowest cost, the highest AUC",
            "threshold_rule": "exact minimum of c_fn*FN + c_fp*FP over OOF predictions "
                              "(evaluation folds), midpoint of the best interval",
            "mlflow_run_id": run_id,
        },
        field_entries=card_mod.field_schema(prepared.dataset.frame, prepared.descriptions),
        registered_model=config.registered_model,
    )


def _export_and_register(config: TrainConfig, tracker: Tracker, dataset: Dataset,
                         holdout: Holdout, evaluation: Evaluation, scores: TestScores,
                         card: ModelCard, run_id: str, summary: dict[str, Any]) -> Registered:
    """Export the bundle to a staging folder (parity gate + probe), register its ONNX model,
    stamp the version into the card, log plots, the bundle and ``summary``, then move the
    bundle into place."""
    from training.bundle import move_into_place, write_bundle, write_card

    threshold = evaluation.threshold
    staging_root = Path(tempfile.mkdtemp(prefix=f".{config.output.name}-train-",
                                         dir=_existing_parent(config.output)))
    try:
        _say(config, "exporting the bundle (parity gate + split-boundary probe)")
        staged = staging_root / "bundle"
        final_card = write_bundle(staged, scores.booster, card, holdout.test_frame,
                                  _reference_rows(config, holdout.train_frame), threshold,
                                  seed=config.seed)
        tracker.log_metrics({
            "parity_max_abs_diff_probability": final_card["parity"]["max_abs_diff_probability"],
            "probe_flips": final_card["probe"]["flips"]})
        _say(config, "registering the model in MLflow")
        version = tracker.register_onnx(staged / MODEL_FILE, tags={
            "onnx_sha256": final_card["onnx_sha256"], "threshold": threshold,
            "data_sha256": dataset.fingerprint["sha256"], "run_id": run_id})
        final_card["model_version"] = str(version)
        final_card["registered_model"]["version"] = version
        write_card(staged / CARD_FILE, final_card)
        tracker.set_tags({"model_version": version, "onnx_sha256": final_card["onnx_sha256"]})
        plot_dir = staging_root / "plots"
        plot_dir.mkdir()
        _plots(plot_dir, config, holdout, evaluation, scores)
        _fairness_plots(card.get("fairness"), plot_dir)
        tracker.log_artifacts(plot_dir, "plots")
        tracker.log_artifacts(staged, "bundle")
        tracker.log_dict(summary, "summary.json")
        move_into_place(staged, config.output)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    return Registered(card=final_card, version=version)


def _existing_parent(path: Path) -> Path:
    parent = path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _config_dict(config: TrainConfig) -> dict[str, Any]:
    out = asdict(config)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


def _plots(directory: Path, config: TrainConfig, holdout: Holdout, evaluation: Evaluation,
           scores: TestScores) -> None:
    y_test, threshold, costs = holdout.y_test, evaluation.threshold, config.costs
    plots.cost_vs_threshold(holdout.y_train, evaluation.champion.oof, threshold, costs,
                            directory / "cost_vs_threshold.png")
    plots.roc({"champion": (y_test, scores.p_test),
               "one-hot grid recipe": (y_test, scores.p_onehot_grid_test)},
              directory / "roc.png")
    plots.confusion(y_test, scores.p_test, threshold, directory / "confusion_matrix.png")
    plots.reliability({"out of fold": (holdout.y_train, evaluation.champion.oof),
                       "test": (y_test, scores.p_test)}, directory / "reliability.png")
    importance = _shap_importance(scores.booster, holdout.X_test, 5_000, config.seed)
    plots.shap_importance(list(holdout.names), importance, directory / "shap_importance.png")


# --------------------------------------------------------------------------- responsible use


def _compliance(config: TrainConfig, tracker: Tracker, plan: SearchPlan,
                compliant: CandidateResult) -> dict[str, Any] | None:
    """The same search with the protected fields, on the same folds (evidence only: the
    champion is always the compliant model)."""
    if not config.compare_protected or not config.protected:
        return None
    from training.features import frame_features
    from training.protected import compliance_cost, summary_line

    _say(config, "searching again with the protected fields, to measure what excluding "
                 "them costs")
    entry, unprotected = compliance_cost(
        frame_features(plan.frame), plan.y, plan.folds, config.costs, config.trials,
        config.seed, plan.small_jobs, compliant, config.protected, config.progress)
    tracker.log_child(unprotected.name, unprotected.params,
                      {"cv_auc": unprotected.auc,
                       "cv_cost_per_applicant": unprotected.cost_per_applicant},
                      tags={"folds": "comparison", "served": "never"})
    tracker.log_metrics({
        "compliance_cv_auc_with_protected": entry["with_protected"]["cv_auc"],
        "compliance_cv_cost_with_protected": entry["with_protected"]["cv_cost_per_applicant"],
        "compliance_cv_auc_compliant": entry["compliant"]["cv_auc"],
        "compliance_cv_cost_compliant": entry["compliant"]["cv_cost_per_applicant"],
        "compliance_cv_auc_difference": entry["difference"]["cv_auc"],
        "compliance_cv_cost_difference": entry["difference"]["cv_cost_per_applicant"]})
    _say(config, summary_line(entry))
    return entry


def _lda(config: TrainConfig, tracker: Tracker, holdout: Holdout, plan: SearchPlan,
         comparison: Comparison) -> tuple[dict[str, Any] | None, Holdout, SearchPlan,
                                          CandidateResult]:
    """The less-discriminatory-alternatives search on the compliant search's folds
    (training.lda); returns its card entry and the holdout, plan and champion that the
    rest of the run follows (unchanged unless the rule chose another candidate)."""
    compliant = comparison.champion_search
    if config.lda_tolerance is None:
        return None, holdout, plan, compliant
    from training import lda

    _say(config, "searching less discriminatory alternatives on the same folds")
    settings = lda.Settings(config.lda_tolerance, config.lda_proxies, config.lda_attribute,
                            config.bootstrap, config.seed, plan.small_jobs, config.progress)
    result = lda.search(plan.X, plan.y, plan.names, plan.folds, plan.frame, config.costs,
                        compliant, settings)
    lda.log(tracker, result.entry)
    for line in lda.summary_lines(result.entry):
        _say(config, line)
    if not result.changed:
        return result.entry, holdout, plan, compliant
    names = result.chosen_names()
    holdout = replace(holdout, names=names,
                      X_train=lda.columns(holdout.X_train, holdout.names, names),
                      X_test=lda.columns(holdout.X_test, holdout.names, names))
    plan = replace(plan, names=names, X=lda.columns(plan.X, plan.names, names))
    return result.entry, holdout, plan, result.champion()


def _fairness(config: TrainConfig, tracker: Tracker, holdout: Holdout,
              evaluation: Evaluation, scores: TestScores) -> dict[str, Any]:
    """The fairness table on OOF and test predictions, logged and summarised in one line."""
    from training import fairness

    report = fairness.fairness_report(
        {"oof": (holdout.train_frame, holdout.y_train, evaluation.champion.oof),
         "test": (holdout.test_frame, holdout.y_test, scores.p_test)},
        evaluation.threshold, config.bootstrap, config.seed)
    tracker.log_metrics(fairness.flat_metrics(report))
    _say(config, fairness.summary_line(report))
    return report


def _fairness_plots(report: Any, directory: Path) -> None:
    from training import fairness

    if report:
        for set_name in ("oof", "test"):
            fairness.plot(report, set_name, directory / f"fairness_{set_name}.png")


def _responsible_keys(config: TrainConfig, prepared: Prepared, holdout: Holdout,
                      compliance: dict[str, Any] | None,
                      fairness_report: dict[str, Any]) -> ModelCard:
    """Card keys: protected attributes, compliance cost, fairness, governance sections."""
    from training import governance

    keys: ModelCard = {
        "protected_attributes": list(config.protected),
        "compliance": compliance or {"skipped": "compare_protected is off"},
        "fairness": fairness_report,
    }
    keys.update(governance.sections(
        source=prepared.dataset.source, rows=len(prepared.y), rows_train=len(holdout.y_train),
        rows_test=len(holdout.y_test), default_rate=float(prepared.y.mean()),
        protected=config.protected))
    return keys
