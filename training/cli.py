"""Command line: ``python -m training train|sample|promote`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contract.explain import DEFAULT_PROTECTED
from training.calibration import DEFAULT_MAX_ECE
from training.costs import DEFAULT_COST_FN, DEFAULT_COST_FP

#: --class-weight -> the champion search's class-weight choices.
CLASS_WEIGHT_CHOICES: dict[str, tuple[str | None, ...]] = {
    "search": (None, "balanced"), "none": (None,), "balanced": ("balanced",)}
EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _cost(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def _tolerance(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a fraction in [0, 1) (0.01 = +1% cost), got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m training",
        description="Train the credit-default model (cost-tuned LightGBM -> ONNX bundle, "
                    "tracked in MLflow), or write a synthetic data set.")
    sub = top.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    _sample_parser(sub)
    _promote_parser(sub)
    return top


def _train_parser(sub: Any) -> None:
    from training.data import DEFAULT_SYNTHETIC_ROWS

    train = sub.add_parser(
        "train", help="train, evaluate, register and export the model bundle",
        description="Train on --data (CSV, CSV.gz or Parquet with SK_ID_CURR, TARGET and the "
                    "120 applicant fields) or, without --data, on a fresh synthetic sample. "
                    "MLflow store: $MLFLOW_TRACKING_URI, default sqlite:///<repo>/mlruns/mlflow.db.")
    train.add_argument("--data", type=Path, help="training file; default: synthetic sample")
    train.add_argument("--output", type=Path, required=True, help="bundle directory to write")
    train.add_argument("--cost-fn", type=_cost, default=DEFAULT_COST_FN,
                       help=f"cost of accepting a defaulter (default {DEFAULT_COST_FN:g})")
    train.add_argument("--cost-fp", type=_cost, default=DEFAULT_COST_FP,
                       help=f"cost of declining a good applicant (default {DEFAULT_COST_FP:g})")
    train.add_argument("--rows", type=_positive_int, default=DEFAULT_SYNTHETIC_ROWS,
                       help=f"synthetic rows without --data (default {DEFAULT_SYNTHETIC_ROWS:,})")
    train.add_argument("--seed", type=int, default=0, help="seed of splits, search and data")
    train.add_argument("--folds", type=_positive_int, default=5, help="CV folds (default 5)")
    train.add_argument("--trials", type=_positive_int, default=20,
                       help="champion random-search trials (default 20)")
    train.add_argument("--descriptions", type=Path,
                       help="columns_description.csv for the card's schema (default: beside "
                            "--data, else ../shared/data/home-credit/)")
    train.add_argument("--search-rows", type=_positive_int, default=40_000,
                       help="cap on the rows used for model comparison and search "
                            "(default 40,000; the final CV and fit use every training row)")
    train.add_argument("--jobs", type=_positive_int, default=None,
                       help="LightGBM threads (default: 1 for small fits, all cores for big)")
    train.add_argument("--protected", nargs="*", default=list(DEFAULT_PROTECTED),
                       metavar="FIELD",
                       help="applicant fields that never reach the model, nor any feature "
                            "computed from them (default: %(default)s; give none to disable)")
    train.add_argument("--no-compliance-cost", action="store_true",
                       help="skip the extra search with the protected fields that measures "
                            "what excluding them costs")
    train.add_argument("--max-ece", type=_probability, default=DEFAULT_MAX_ECE,
                       help="refuse to export when the calibrated out-of-fold expected "
                            f"calibration error is above this (default {DEFAULT_MAX_ECE:g})")
    train.add_argument("--class-weight", choices=("search", "none", "balanced"),
                       default="search",
                       help="the champion search's class weights: drawn per trial (default) "
                            "or forced; the served probability is calibrated either way")
    train.add_argument("--lda-tolerance", type=_tolerance, default=0.01,
                       help="less discriminatory alternatives: the champion may be replaced "
                            "by a candidate with a better worst-group approval ratio whose "
                            "cost is at most this fraction above the champion's and AUC "
                            "within 0.005 (default 0.01; 0 keeps the champion, the search "
                            "is then evidence only; docs/responsible-ai-lda.md)")
    train.add_argument("--no-lda", action="store_true",
                       help="skip the less-discriminatory-alternatives search")
    train.add_argument("--quiet", action="store_true", help="no progress output")


def _sample_parser(sub: Any) -> None:
    sample = sub.add_parser("sample", help="write a synthetic Home-Credit-shaped data set")
    sample.add_argument("--rows", type=_positive_int, required=True)
    sample.add_argument("--output", type=Path, required=True,
                        help="file to write: .csv, .csv.gz or .parquet")
    sample.add_argument("--seed", type=int, default=0)


def _promote_parser(sub: Any) -> None:
    promote = sub.add_parser(
        "promote", help="check a registered model and put it in front of the stack",
        description="Download the bundle of an MLflow registry version, check it (sha256s, "
                    "parity, probe, golden set, input schema), upload it to the stack's model "
                    "bucket under models/<version>/ and print (or run) the sam deploy command.")
    which = promote.add_mutually_exclusive_group()
    which.add_argument("--alias", default=None, help="registry alias (default champion)")
    which.add_argument("--version", type=_positive_int, help="registry version number")
    promote.add_argument("--stack", required=True, help="the deployed stack's name")
    promote.add_argument("--deploy", action="store_true", help="run sam build and sam deploy")


def _train(args: argparse.Namespace) -> int:
    from training.costs import Costs
    from training.pipeline import TrainConfig, train

    config = TrainConfig(
        output=args.output, data=args.data, rows=args.rows, seed=args.seed, folds=args.folds,
        trials=args.trials, costs=Costs(fn=args.cost_fn, fp=args.cost_fp),
        descriptions=args.descriptions, search_rows=args.search_rows, n_jobs=args.jobs,
        progress=not args.quiet, protected=tuple(args.protected),
        compare_protected=not args.no_compliance_cost, max_ece=args.max_ece,
        class_weights=CLASS_WEIGHT_CHOICES[args.class_weight],
        lda_tolerance=None if args.no_lda else args.lda_tolerance)
    result = train(config)
    cv, test = result.card["metrics"]["cv"], result.card["metrics"]["test"]
    print(f"bundle: {result.output}  model version: {result.model_version}  "
          f"threshold: {result.card['threshold']:.6f}")
    print(f"CV AUC {cv['auc']:.4f}, cost/applicant {cv['cost_per_applicant']:.4f}; "
          f"test AUC {test['auc']['value']:.4f}, cost/applicant "
          f"{test['cost_per_applicant']['value']:.4f}")
    calibration = result.card["calibration"]
    print(f"calibrated ({calibration['method']}: a={calibration['a']:.4f}, "
          f"b={calibration['b']:+.4f}): ECE out of fold {calibration['oof']['ece']['value']:.4f}, "
          f"test {calibration['test']['ece']['value']:.4f}")
    lda_entry = result.card.get("less_discriminatory_alternatives")
    if lda_entry:
        from training.lda import summary_lines

        print("\n".join(summary_lines(lda_entry)))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from training.synthetic import write_sample

    path = write_sample(args.output, args.rows, seed=args.seed)
    print(f"wrote {args.rows:,} synthetic rows to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from training.data import DataError, SchemaError

    if args.command == "promote":
        from training.promote import main as promote_main

        return promote_main(args)
    try:
        return _train(args) if args.command == "train" else _sample(args)
    except (SchemaError, DataError, FileNotFoundError, ValueError) as exc:
        # ParityError is an AssertionError: it is reported below, not as bad input.
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        from training.calibration import CalibrationError
        from training.export import ParityError

        if isinstance(exc, ParityError | CalibrationError):
            print(f"error: export refused: {exc}", file=sys.stderr)
            return EXIT_FAILED
        raise
