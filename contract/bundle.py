"""The model bundle: the files training writes, serving loads and infra uploads.

A bundle is one directory (or S3 prefix)::

    model.onnx        request fields -> features, margin, probability (contract.graph)
    shap_paths.npz    the trees as arrays for the TreeSHAP explainer (no pickles)
    reference.csv.gz  reference rows, the 120 applicant fields (drift baseline)
    reference_bins.json  aggregates of the reference rows for the officer page: per model
                      feature, bins of at least MIN_BIN_ROWS rows and each bin's default
                      rate (never rows); served by GET /reference, loaded on first use
    golden_set.json   about 200 test-split applications with the probability, decision and
                      reasons the bundle must give them (checked before a version takes
                      traffic; see training/golden.py)
    reference_scores.json  the model's probabilities on the hold-out rows and the threshold
                      (the drift job's baseline for the score distribution and decline rate)
    model_card.json   the card below; written last, so a reader never meets a card whose
                      files are not all in place
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypedDict

MODEL_FILE: Final = "model.onnx"
CARD_FILE: Final = "model_card.json"
SHAP_FILE: Final = "shap_paths.npz"
REFERENCE_FILE: Final = "reference.csv.gz"
REFERENCE_BINS_FILE: Final = "reference_bins.json"
GOLDEN_FILE: Final = "golden_set.json"
REFERENCE_SCORES_FILE: Final = "reference_scores.json"
#: Files for the drift job only (not packaged with the scoring function).
DRIFT_FILES: Final = (REFERENCE_FILE, REFERENCE_SCORES_FILE)
#: Every file of a bundle, in write order: the card last.
BUNDLE_FILES: Final = (MODEL_FILE, SHAP_FILE, REFERENCE_FILE, REFERENCE_SCORES_FILE,
                       REFERENCE_BINS_FILE, GOLDEN_FILE, CARD_FILE)
#: What the scoring function loads (the reference rows are for the drift job only): the
#: card last.
SERVING_FILES: Final = (MODEL_FILE, SHAP_FILE, CARD_FILE)
#: Serving files a bundle may lack (older bundles): the function serves without them.
OPTIONAL_SERVING_FILES: Final = (REFERENCE_BINS_FILE,)
#: What goes under a model prefix in the model bucket: the serving files, the reference bins
#: and the golden set (kept with the model as the record of its expected answers; the
#: pre-traffic hook is built with a copy), the card last.
PUBLISHED_FILES: Final = (MODEL_FILE, SHAP_FILE, REFERENCE_BINS_FILE, GOLDEN_FILE, CARD_FILE)
#: Environment variable naming the bundle whose golden set ``sam build`` packages with the
#: PreTraffic hook (infra/build_hook.py); training's promote sets it for the build it runs.
HOOK_BUNDLE_ENV: Final = "HOOK_BUNDLE"
#: Fewest reference rows behind any bin of reference_bins.json (smaller groups are pooled
#: or left out, so no bin describes a handful of applicants).
MIN_BIN_ROWS: Final = 20
#: Quantile bins per numeric feature before small bins are merged.
REFERENCE_QUANTILE_BINS: Final = 10
#: Card keys the scoring function cannot serve without.
REQUIRED_CARD_KEYS: Final = ("model_version", "threshold", "features", "onnx_sha256")
#: ``model_version`` of a card whose model has not been registered in MLflow.
UNREGISTERED: Final = "unregistered"


class ModelCard(TypedDict, total=False):
    """``model_card.json``. Serving needs :data:`REQUIRED_CARD_KEYS`; the rest documents."""

    model_version: str
    created_at: str
    model_type: str
    registered_model: dict[str, Any]
    data_fingerprint: dict[str, Any]
    costs: dict[str, float]
    #: Decline iff probability >= threshold; both on the calibrated scale.
    threshold: float
    decision: str
    #: How ``probability`` is calibrated (Platt map folded into the model: method, a, b),
    #: ECE and Brier out of fold and on test with CIs, reliability tables.
    calibration: dict[str, Any]
    metrics: dict[str, Any]
    candidates: dict[str, Any]
    hyperparameters: dict[str, Any]
    training: dict[str, Any]
    #: The 121 request fields: schema facts, description and what training observed.
    schema: list[dict[str, Any]]
    #: The model's feature names, in the graph's ``features`` output order.
    features: list[str]
    onnx_sha256: str
    parity: dict[str, Any]
    probe: dict[str, Any]
    #: sha256 of golden_set.json, and how its rows were chosen.
    golden_sha256: str
    golden: dict[str, Any]
    #: Applicant fields that never reach the model (accepted and captured for monitoring).
    protected_attributes: list[str]
    #: The same search with the protected fields: CV AUC and cost for both, the difference.
    compliance: dict[str, Any]
    #: Decisions and errors by gender, age band and marital status on OOF and test
    #: predictions, with CIs.
    fairness: dict[str, Any]
    #: The less-discriminatory-alternatives search: candidates, frontier, rule, choice.
    less_discriminatory_alternatives: dict[str, Any]
    #: Out-of-fold AUC, default rate and calibration among the applicants the model
    #: approves, with CIs: what the monitor's realised cohorts are compared with.
    outcome_reference: dict[str, Any]
    intended_use: str
    out_of_scope_uses: list[str]
    limitations: dict[str, str]
    human_oversight: dict[str, str]


def beside(reference_key: str, name: str) -> str:
    """The key of file ``name`` beside the reference sample's key (same prefix)."""
    head, slash, _ = reference_key.rpartition("/")
    return f"{head}{slash}{name}"


def reference_scores_key(reference_key: str) -> str:
    """Where the reference scores are uploaded: beside the reference sample's key."""
    return beside(reference_key, REFERENCE_SCORES_FILE)


def reference_card_key(reference_key: str) -> str:
    """Where the card is uploaded for the drift job (its fairness reference rates)."""
    return beside(reference_key, CARD_FILE)


#: Content type of each bundle file, by suffix, when uploaded.
CONTENT_TYPES: Final = {".onnx": "application/octet-stream", ".npz": "application/octet-stream",
                        ".json": "application/json", ".gz": "application/gzip"}


def reference_uploads(present: Callable[[str], bool], bucket: str, reference_key: str
                      ) -> list[tuple[str, str, str]]:
    """(bundle file, bucket, key) of the drift job's files: the reference sample, and beside
    it the reference scores (when ``present``) and the card (its fairness reference)."""
    plan = [(REFERENCE_FILE, bucket, reference_key)]
    if present(REFERENCE_SCORES_FILE):
        plan.append((REFERENCE_SCORES_FILE, bucket, reference_scores_key(reference_key)))
    plan.append((CARD_FILE, bucket, reference_card_key(reference_key)))
    return plan


def upload_plan(present: Callable[[str], bool], model_bucket: str, model_prefix: str,
                reference_bucket: str, reference_key: str) -> list[tuple[str, str, str]]:
    """(bundle file, bucket, key) of every upload of a bundle, in order: the published files
    under ``model_prefix`` (ending in "/"; optional ones when ``present``), the card last;
    then the drift job's files (reference_uploads)."""
    published = [n for n in PUBLISHED_FILES if n in SERVING_FILES or present(n)]
    return [(name, model_bucket, f"{model_prefix}{name}") for name in published] + \
        reference_uploads(present, reference_bucket, reference_key)


def upload(bundle: Path, plan: list[tuple[str, str, str]], s3: Any) -> list[str]:
    """Upload ``plan`` (upload_plan) from the bundle directory with boto3's ``upload_file``;
    returns the s3:// URIs written, in order."""
    written = []
    for name, bucket, key in plan:
        content_type = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
        s3.upload_file(str(bundle / name), bucket, key, ExtraArgs={"ContentType": content_type})
        written.append(f"s3://{bucket}/{key}")
    return written
