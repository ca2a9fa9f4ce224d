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
    threshold: float
    decision: str
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
    intended_use: str
    out_of_scope_uses: list[str]
    limitations: dict[str, str]
    human_oversight: dict[str, str]


def reference_scores_key(reference_key: str) -> str:
    """Where the reference scores are uploaded: beside the reference sample's key."""
    head, slash, _ = reference_key.rpartition("/")
    return f"{head}{slash}{REFERENCE_SCORES_FILE}"
