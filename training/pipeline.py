"""``train`` end to end: data -> candidates -> champion -> bundle -> MLflow registry.

1. Read and validate the data (nothing is written before it passes), fingerprint it.
2. Hold out a stratified test split. Everything that chooses (model comparison,
   hyper-parameter search, threshold) uses stratified k-fold out-of-fold predictions on the
   training part only.
3. Compare Dummy, LogisticRegression, the seed recipe and the LightGBM champion search on
   the same folds ("comparison folds"; on big data a stratified subsample of the training
   part, see ``search_rows``).
4. Re-evaluate the chosen champion (and the seed recipe) with fresh folds over the whole
   training part ("evaluation folds"): the champion's threshold is the cost-optimal one on
   these OOF predictions. Refit on the training part; report test metrics with bootstrap CIs.
5. Export the bundle (parity gate + probe) to a staging folder, register the ONNX model in
   MLflow with alias ``champion``, stamp the registry version into the card, log plots and
   artifacts, and only then move the bundle into ``output``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from contract import schema
from training import card as card_mod
from training import plots
from training.costs import SEED_THRESHOLD_GRID, Costs, best_threshold
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
from training.evaluate import auc, bootstrap_metrics, make_folds, metrics_at, split_holdout
from training.models import (
    CandidateResult,
    fit_champion,
    fit_seed,
    lgbm_oof,
    predict_seed,
    run_dummy,
    run_logistic,
    run_seed_recipe,
    search_champion,
    seed_design_matrix,
)
from training.tracking import EXPERIMENT, REGISTERED_MODEL, Tracker


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
        if self.descriptions is not None and not Path(self.descriptions).is_file():
            raise FileNotFoundError(f"descriptions file not found: {self.descriptions}")


@dataclass
class TrainResult:
    output: Path
    card: dict[str, Any]
    run_id: str
    model_version: int
    comparison: dict[str, dict[str, Any]]
    seconds: float


_T0 = [time.perf_counter()]


def _say(config: TrainConfig, message: str) -> None:
    if config.progress:
        elapsed = time.perf_counter() - _T0[0]
        print(f"[train {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


def _jobs(config: TrainConfig, rows: int) -> int:
    """LightGBM threads per fit. Below 20k rows one thread is fastest (measured on 2
    cores: 3,200 rows 0.76 s vs 1.38 s on 2 threads; 12,800 rows 1.9 s vs 2.3 s; 26,700
    rows 3.4 s vs 2.7 s). Fitting the folds in 2 processes instead did not help either
    (real sample: 97 s vs 101 s end to end, the search slower)."""
    if config.n_jobs:
        return config.n_jobs
    return 1 if rows < 20_000 else max(1, min(os.cpu_count() or 1, 8))


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
    return np.abs(contrib[:, :-1]).mean(axis=0)


def train(config: TrainConfig) -> TrainResult:
    """Run the whole pipeline; see the module docstring. Raises before writing anything
    when the data or the arguments are invalid."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the logistic regression is small, and multi-threaded BLAS on a
    # shared 2-core machine was measured 15-50x slower than one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(config)


def _train(config: TrainConfig) -> TrainResult:
    started = _T0[0] = time.perf_counter()
    config.check()
    costs = config.costs
    dataset = load_data(config)
    frame = dataset.frame
    y_all = frame[schema.TARGET_FIELD].to_numpy(dtype=np.int64)
    check_trainable(y_all, config.folds, config.test_size)
    descriptions_path = config.descriptions or find_descriptions(config.data)
    descriptions = load_descriptions(descriptions_path)
    _say(config, f"data ok: {len(frame):,} rows, {int(y_all.sum()):,} defaults "
                 f"({y_all.mean():.2%}), sha256 {dataset.fingerprint['sha256'][:12]}")

    # ------------------------------------------------------------------ split + features
    train_idx, test_idx = split_holdout(y_all, config.test_size, config.seed)
    train_frame = frame.iloc[train_idx].reset_index(drop=True)
    test_frame = frame.iloc[test_idx].reset_index(drop=True)
    y_train, y_test = y_all[train_idx], y_all[test_idx]
    from training.features import FEATURE_NAMES, frame_features

    _say(config, "computing features with the ONNX feature graph")
    X_all = frame_features(frame)
    X_train, X_test = X_all[train_idx], X_all[test_idx]
    del X_all

    search_pos = _subsample(y_train, config.search_rows, config.seed)
    subsampled = len(search_pos) < len(y_train)
    search_k = min(config.folds, config.search_folds) if subsampled else config.folds
    y_search = y_train[search_pos]
    X_search = X_train[search_pos]
    search_frame = train_frame.iloc[search_pos].reset_index(drop=True)
    search_folds = make_folds(y_search, search_k, config.seed)
    eval_folds = make_folds(y_train, config.folds, config.seed + 1)
    small_jobs = _jobs(config, len(search_pos))
    big_jobs = _jobs(config, len(y_train))
    _say(config, f"train {len(y_train):,} / test {len(y_test):,} rows; comparison on "
                 f"{len(search_pos):,} rows x {search_k} folds")

    tracker = Tracker(config.tracking_uri, config.experiment, config.registered_model)
    with tracker.parent_run("train", tags={"entry": "python -m training train"}) as run_id:
        tracker.log_params({
            "seed": config.seed, "folds": config.folds, "trials": config.trials,
            "cost_fn": costs.fn, "cost_fp": costs.fp, "test_size": config.test_size,
            "search_rows": len(search_pos), "search_folds": search_k,
            "rows_train": len(y_train), "rows_test": len(y_test),
            "source": dataset.source,
        })
        tracker.log_dataset(dataset.fingerprint, dataset.source)

        # -------------------------------------------------------------- comparison
        _say(config, "comparing candidates on the same folds")
        dummy = run_dummy(y_search, search_folds, costs)
        logistic = run_logistic(X_search, y_search, search_folds, costs, config.seed,
                                progress=config.progress)
        seed_recipe = run_seed_recipe(search_frame, y_search, search_folds, costs, config.seed,
                                      small_jobs, progress=config.progress)
        champion_search = search_champion(X_search, y_search, search_folds, costs,
                                          config.trials, config.seed, small_jobs,
                                          progress=config.progress)
        comparison = {r.name: r.summary() for r in (dummy, logistic, seed_recipe,
                                                    champion_search)}
        for r in (dummy, logistic, seed_recipe, champion_search):
            tracker.log_child(
                r.name, r.params,
                {"cv_auc": r.auc, "cv_cost_per_applicant": r.cost_per_applicant,
                 "threshold": r.threshold, "seconds": r.seconds},
                tags={"folds": "comparison"}, tables={f"{r.name}_trials.csv": r.trials})
            tracker.log_metrics({f"compare_{r.name}_cv_auc": r.auc,
                                 f"compare_{r.name}_cv_cost_per_applicant":
                                     r.cost_per_applicant})
            _say(config, f"  {r.name:<20} CV AUC {r.auc:.4f}  cost/applicant "
                         f"{r.cost_per_applicant:.4f}  threshold {r.threshold:.4f}")
        tracker.log_table(champion_search.trials, "champion_search_trials.csv")

        # -------------------------------------------------------------- evaluation folds
        params = champion_search.params
        _say(config, f"evaluating the champion on {config.folds} fresh folds over "
                     f"{len(y_train):,} rows")
        champion_oof = lgbm_oof(X_train, y_train, eval_folds, params, config.seed, big_jobs,
                                 config.progress, "champion folds")
        choice = best_threshold(y_train, champion_oof, costs)
        champion = CandidateResult("champion", params, champion_oof, auc(y_train, champion_oof),
                                   choice)
        if subsampled:
            # Big data: the seed recipe is judged on the comparison folds (the subsample) and
            # on the test rows; re-running its CV over every training row would cost more
            # than its reference value is worth in the 10-minute budget.
            seed_eval, seed_y = seed_recipe, y_search
            seed_scope = {"folds": search_k, "rows": len(y_search), "scope": "comparison"}
        else:
            seed_matrix = seed_design_matrix(train_frame).to_numpy(dtype=np.float32)
            seed_eval_oof = lgbm_oof(
                seed_matrix, y_train, eval_folds, seed_recipe.params, config.seed, big_jobs,
                config.progress, "seed recipe folds")
            del seed_matrix
            seed_eval = CandidateResult(
                "seed_recipe", seed_recipe.params, seed_eval_oof, auc(y_train, seed_eval_oof),
                best_threshold(y_train, seed_eval_oof, costs, SEED_THRESHOLD_GRID))
            seed_y = y_train
            seed_scope = {"folds": config.folds, "rows": len(y_train), "scope": "evaluation"}
        threshold = champion.threshold

        # -------------------------------------------------------------- final fits + test
        _say(config, "refitting the champion and the seed recipe on the training part")
        model = fit_champion(X_train, y_train, params, config.seed, big_jobs)
        booster = model.booster_
        p_test = booster.predict(X_test)
        seed_model, seed_columns = fit_seed(train_frame, y_train, seed_recipe.params,
                                            config.seed, big_jobs)
        p_seed_test = predict_seed(seed_model, seed_columns, test_frame)
        del seed_model
        _say(config, f"bootstrapping test metrics ({config.bootstrap} resamples)")
        test_boot = bootstrap_metrics(y_test, p_test, threshold, costs, config.bootstrap,
                                      config.seed)
        seed_boot = bootstrap_metrics(y_test, p_seed_test, seed_eval.threshold, costs,
                                      config.bootstrap, config.seed)
        cv = {**_cv_metrics(y_train, champion, costs), "folds": config.folds,
              "rows": len(y_train), "scope": "evaluation"}
        seed_cv = {**_cv_metrics(seed_y, seed_eval, costs), **seed_scope}
        metrics = {
            "cv": cv,
            "test": {**test_boot, "rows": len(y_test), "bootstrap_resamples": config.bootstrap,
                     "confusion": {k: v for k, v in metrics_at(y_test, p_test, threshold,
                                                              costs).items()
                                   if k in ("tn", "fp", "fn", "tp")}},
            "seed_recipe": {"cv": seed_cv, "test": seed_boot,
                            "threshold": seed_eval.threshold, "params": seed_recipe.params},
            "comparison": {
                "rows": len(search_pos), "folds": search_k,
                **{name: {k: v for k, v in s.items() if k in ("cv_auc", "cv_cost_per_applicant",
                                                               "threshold")}
                   for name, s in comparison.items()},
            },
        }
        tracker.log_metrics({f"cv_{k}": v for k, v in cv.items()})
        tracker.log_metrics({f"test_{k}": v for k, v in _flat_ci(test_boot).items()})
        tracker.log_metrics({f"seed_cv_{k}": v for k, v in seed_cv.items()})
        tracker.log_metrics({f"seed_test_{k}": v for k, v in _flat_ci(seed_boot).items()})
        tracker.log_metrics({"threshold": threshold, "seed_threshold": seed_eval.threshold})
        tracker.log_params({f"champion.{k}": v for k, v in params.items()})
        _say(config, f"champion: CV AUC {cv['auc']:.4f} cost {cv['cost_per_applicant']:.4f} "
                     f"| seed recipe: CV AUC {seed_cv['auc']:.4f} cost "
                     f"{seed_cv['cost_per_applicant']:.4f} ({seed_cv['scope']} folds)")
        _say(config, f"test: AUC {test_boot['auc']['value']:.4f} "
                     f"[{test_boot['auc']['ci_low']:.4f}, {test_boot['auc']['ci_high']:.4f}], "
                     f"cost/applicant {test_boot['cost_per_applicant']['value']:.4f}, "
                     f"threshold {threshold:.4f}")

        # -------------------------------------------------------------- card + bundle
        rng = np.random.default_rng(config.seed)
        ref_pos = np.sort(rng.choice(len(train_frame), min(config.reference_rows,
                                                           len(train_frame)), replace=False))
        reference = train_frame.iloc[ref_pos].reset_index(drop=True)
        the_card = card_mod.build_card(
            fingerprint={k: dataset.fingerprint[k] for k in ("sha256", "rows", "columns")}
            | {k: v for k, v in dataset.fingerprint.items() if k not in ("sha256", "rows",
                                                                            "columns")},
            costs=costs.to_dict(), threshold=threshold, metrics=metrics,
            candidates=comparison, hyperparameters=params,
            training={
                "seed": config.seed, "folds": config.folds, "trials": config.trials,
                "test_size": config.test_size, "rows_train": len(y_train),
                "rows_test": len(y_test), "comparison_rows": len(search_pos),
                "comparison_folds": search_k, "reference_rows": len(reference),
                "champion_selection": "random search scored by OOF cost at each trial's "
                                      "OOF-optimal threshold; among trials within one fold "
                                      "standard error of the lowest cost, the highest AUC",
                "threshold_rule": "exact minimum of c_fn*FN + c_fp*FP over OOF predictions "
                                  "(evaluation folds), midpoint of the best interval",
                "mlflow_run_id": run_id,
            },
            field_entries=card_mod.field_schema(frame, descriptions),
            registered_model=config.registered_model,
        )
        staging_root = Path(tempfile.mkdtemp(prefix=f".{config.output.name}-train-",
                                             dir=_existing_parent(config.output)))
        try:
            from training.bundle import (
                CARD_FILE,
                MODEL_FILE,
                move_into_place,
                write_bundle,
                write_card,
            )

            _say(config, "exporting the bundle (parity gate + split-boundary probe)")
            staged = staging_root / "bundle"
            final_card = write_bundle(staged, booster, the_card, test_frame, reference,
                                      threshold, seed=config.seed)
            tracker.log_metrics({
                "parity_max_abs_diff_probability":
                    final_card["parity"]["max_abs_diff_probability"],
                "probe_flips": final_card["probe"]["flips"]})
            _say(config, "registering the model in MLflow")
            version = tracker.register_onnx(staged / MODEL_FILE, tags={
                "onnx_sha256": final_card["onnx_sha256"], "threshold": threshold,
                "data_sha256": dataset.fingerprint["sha256"], "run_id": run_id})
            final_card["model_version"] = str(version)
            final_card["registered_model"]["version"] = version
            write_card(staged / CARD_FILE, final_card)
            tracker.set_tags({"model_version": version, "onnx_sha256":
                              final_card["onnx_sha256"]})

            plot_dir = staging_root / "plots"
            plot_dir.mkdir()
            _plots(plot_dir, y_train, champion.oof, threshold, costs, y_test, p_test,
                   p_seed_test, booster, X_test, list(FEATURE_NAMES), config.seed)
            tracker.log_artifacts(plot_dir, "plots")
            tracker.log_artifacts(staged, "bundle")
            tracker.log_dict({"comparison": comparison, "metrics": metrics,
                              "config": _config_dict(config)}, "summary.json")
            move_into_place(staged, config.output)
        finally:
            shutil.rmtree(staging_root, ignore_errors=True)

    seconds = time.perf_counter() - started
    _say(config, f"done in {seconds:.0f} s: bundle {config.output}, model version {version}")
    return TrainResult(output=config.output, card=final_card, run_id=run_id,
                       model_version=version, comparison=comparison, seconds=seconds)


def _existing_parent(path: Path) -> Path:
    parent = path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


def _config_dict(config: TrainConfig) -> dict[str, Any]:
    out = asdict(config)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in out.items()}


def _plots(directory: Path, y_train: np.ndarray, oof: np.ndarray, threshold: float,
           costs: Costs, y_test: np.ndarray, p_test: np.ndarray, p_seed_test: np.ndarray,
           booster: Any, X_test: np.ndarray, names: list[str], seed: int) -> None:
    plots.cost_vs_threshold(y_train, oof, threshold, costs, directory / "cost_vs_threshold.png")
    plots.roc({"champion": (y_test, p_test), "seed recipe": (y_test, p_seed_test)},
              directory / "roc.png")
    plots.confusion(y_test, p_test, threshold, directory / "confusion_matrix.png")
    importance = _shap_importance(booster, X_test, 5_000, seed)
    plots.shap_importance(names, importance, directory / "shap_importance.png")
