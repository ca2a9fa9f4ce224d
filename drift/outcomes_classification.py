"""Evidently's classification report (``ClassificationPreset``) on each matured cohort's booked
loans: target = the outcome, probability = the served probability, predicted label = the served
decision (1 = decline), i.e. the probability at the deciding model's own threshold.

One report per matured cohort (decision month x model version) whose booked loans hold both
outcomes, the population of the cohort's AUC (drift.cohorts): its figures can be checked
against the cohort's, and no report mixes two models. Every booked loan was approved, so at
the threshold every one is predicted "repaid": recall is 0 and precision undefined by
construction (Evidently shows 0.0); the threshold-free parts (ROC and PR curves, log loss,
lift) carry the information. The report's figures are added to the cohort's summary entry
under ``classification_report``.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from drift.cohorts import approved_loans

#: Evidently's metric names -> the summary's keys.
_FIGURES = {"RocAuc": "roc_auc", "LogLoss": "log_loss", "Accuracy": "accuracy",
            "Precision": "precision", "Recall": "recall", "TPR": "tpr", "TNR": "tnr",
            "FPR": "fpr", "FNR": "fnr"}
NOTE = ("Every booked loan was approved, so at the model's threshold each is predicted "
        "'repaid': recall is 0 and precision is undefined by construction (Evidently shows "
        "0.0). The threshold-free figures (ROC AUC, log loss, the ROC and PR curves) are the "
        "ones that inform.")


def report_file(cohort: str, model_version: str) -> str:
    """The report's file name beside report.html."""
    version = re.sub(r"[^A-Za-z0-9._-]", "_", str(model_version))
    return f"classification-{cohort}-v{version}.html"


def booked_frame(booked: pd.DataFrame) -> pd.DataFrame:
    """The three columns Evidently reads, from the join's rows of booked loans."""
    return pd.DataFrame({
        "outcome": booked["outcome"].to_numpy(np.int64),
        "probability": booked["probability"].to_numpy(np.float64),
        "declined": (booked["decision"] == "decline").to_numpy(np.int64),
    })


def classification_report(frame: pd.DataFrame) -> tuple[str, dict[str, Any]]:
    """Evidently's ClassificationPreset on ``frame`` (booked_frame): its standalone HTML and
    its headline figures."""
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently import __version__ as evidently_version
    from evidently.presets import ClassificationPreset

    definition = DataDefinition(
        classification=[BinaryClassification(target="outcome", prediction_labels="declined",
                                             prediction_probas="probability", pos_label=1)],
        numerical_columns=["probability"])
    with warnings.catch_warnings():  # sklearn's "precision is ill-defined": see NOTE
        warnings.simplefilter("ignore")
        snapshot = Report([ClassificationPreset()]).run(
            Dataset.from_pandas(frame, data_definition=definition), None)
    metrics = json.loads(snapshot.json())["metrics"]
    values = {m["config"]["type"].rsplit(":", 1)[-1]: m["value"] for m in metrics}
    figures: dict[str, Any] = {key: float(values[name]) for name, key in _FIGURES.items()}
    figures["loans"] = len(frame)
    figures["evidently_version"] = evidently_version
    return snapshot.get_html_str(as_iframe=False), figures


def classification_reports(loans: pd.DataFrame, summary: dict[str, Any]) -> dict[str, str]:
    """One report per matured cohort with an AUC (both outcomes among its booked loans);
    each cohort's entry gets ``classification_report`` (file and figures). Returns
    {file name: HTML}; empty when no cohort has matured."""
    booked = approved_loans(loans)
    pages: dict[str, str] = {}
    for entry in summary["cohorts"]:
        if not entry["matured"] or entry["auc"] is None:
            continue
        mine = booked[(booked["cohort"] == entry["cohort"])
                      & (booked["model_version"] == entry["model_version"])]
        html, figures = classification_report(booked_frame(mine))
        name = report_file(entry["cohort"], entry["model_version"])
        entry["classification_report"] = {"file": name, **figures}
        pages[name] = html
    return pages
