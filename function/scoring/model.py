"""Loading the model bundle: model.onnx (checked against the card's sha256), model_card.json
and shap_paths.npz, into one onnxruntime session and one numpy TreeSHAP explainer.

Any problem (missing file, unreadable card, hash mismatch, corrupt graph, wrong inputs or
outputs, explainer that does not reproduce the graph's margin) raises :class:`BundleError`
with a one-line reason; the API then answers 503 with that reason instead of crash-looping.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import onnxruntime as ort

from contract import schema
from contract.bundle import (
    CARD_FILE,
    MODEL_FILE,
    OPTIONAL_SERVING_FILES,
    REQUIRED_CARD_KEYS,
    SERVING_FILES,
    SHAP_FILE,
    ModelCard,
)
from contract.graph import (
    CATEGORICAL_INPUT,
    FEATURES_OUTPUT,
    NUMERIC_INPUT,
    OUTPUTS,
    PROBABILITY_OUTPUT,
)

if TYPE_CHECKING:
    from contract.aws import S3Client
    from scoring.treeshap import TreeShap

#: |TreeSHAP row sum - graph margin| above this at load time means mismatched files.
CONSISTENCY_TOLERANCE = 1e-6


class BundleError(Exception):
    """The bundle cannot be served; ``str(exc)`` is the reason /health reports."""


@dataclass(frozen=True)
class Bundle:
    directory: Path
    card: ModelCard
    card_json: bytes = field(repr=False)
    version: str
    threshold: float
    feature_names: tuple[str, ...]
    #: How the features' contributions become reasons (scoring.reasons).
    plan: Any = field(repr=False)
    session: ort.InferenceSession = field(repr=False)
    explainer: TreeShap = field(repr=False)

    def predict(
        self, inputs: dict[str, np.ndarray], with_features: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(probability [N], features [N, F] or None) for encoded applications."""
        if with_features:
            features, probability = self.session.run([FEATURES_OUTPUT, PROBABILITY_OUTPUT], inputs)
            return probability, features
        (probability,) = self.session.run([PROBABILITY_OUTPUT], inputs)
        return probability, None

    def explain(self, features: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions [N, F+1] (last column the expected value)."""
        return self.explainer.contributions(features)


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # The graph is Gather/Where/LabelEncoder/TreeEnsemble nodes: graph rewrites gain nothing
    # at run time and only lengthen session creation at every cold start.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    # No busy-waiting worker threads between requests (they would burn the Lambda's CPU).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _read_card(directory: Path) -> tuple[ModelCard, bytes]:
    path = directory / CARD_FILE
    try:
        raw = path.read_bytes()
        card: object = json.loads(raw)
    except FileNotFoundError:
        raise BundleError(f"{CARD_FILE} not found in {directory}") from None
    except (OSError, ValueError) as exc:
        raise BundleError(f"{CARD_FILE} is unreadable: {exc}") from None
    if not isinstance(card, dict):
        raise BundleError(f"{CARD_FILE} is not a JSON object")
    missing = [key for key in REQUIRED_CARD_KEYS if key not in card]
    if missing:
        raise BundleError(f"{CARD_FILE} lacks {missing}")
    threshold = card["threshold"]
    if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise BundleError(f"{CARD_FILE} threshold {threshold!r} is not a probability")
    names = card["features"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise BundleError(f"{CARD_FILE} features is not a list of names")
    return cast("ModelCard", card), raw


def _read_model(directory: Path, expected_sha256: object) -> bytes:
    path = directory / MODEL_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BundleError(f"{MODEL_FILE} not found in {directory}") from None
    except OSError as exc:
        raise BundleError(f"{MODEL_FILE} is unreadable: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise BundleError(
            f"{MODEL_FILE} sha256 {digest} does not match the card's onnx_sha256 "
            f"{expected_sha256}"
        )
    return data


def _session(data: bytes, threads: int, n_features: int) -> ort.InferenceSession:
    try:
        session = ort.InferenceSession(
            data, sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise BundleError(f"{MODEL_FILE} cannot be loaded: {_one_line(exc)}") from None
    inputs = {i.name: i for i in session.get_inputs()}
    expected_inputs = {NUMERIC_INPUT: len(schema.NUMERIC_FIELDS),
                       CATEGORICAL_INPUT: len(schema.CATEGORICAL_FIELDS)}
    if set(inputs) != set(expected_inputs):
        raise BundleError(f"{MODEL_FILE} inputs {sorted(inputs)} are not "
                          f"{sorted(expected_inputs)}")
    for name, width in expected_inputs.items():
        shape = inputs[name].shape
        fixed = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else width
        if len(shape) != 2 or fixed != width:
            raise BundleError(f"{MODEL_FILE} input {name} has shape {shape}, expected [N, {width}]")
    outputs = {o.name: o for o in session.get_outputs()}
    if not set(OUTPUTS) <= set(outputs):
        raise BundleError(f"{MODEL_FILE} outputs {sorted(outputs)} lack {sorted(OUTPUTS)}")
    width = outputs[FEATURES_OUTPUT].shape[-1]
    if isinstance(width, int) and width != n_features:
        raise BundleError(f"{MODEL_FILE} has {width} features, the card lists {n_features}")
    return session


def _explainer(directory: Path, n_features: int) -> TreeShap:
    from scoring.treeshap import TreeShap

    path = directory / SHAP_FILE
    if not path.is_file():
        raise BundleError(f"{SHAP_FILE} not found in {directory}")
    try:
        explainer = TreeShap.load(path)
    except Exception as exc:  # a corrupt npz raises zipfile/ValueError/KeyError/...
        raise BundleError(f"{SHAP_FILE} cannot be loaded: {_one_line(exc)}") from None
    if explainer.num_features != n_features:
        raise BundleError(f"{SHAP_FILE} explains {explainer.num_features} features, "
                          f"the card lists {n_features}")
    return explainer


def _reason_plan(names: tuple[str, ...], card: ModelCard) -> Any:
    from scoring.reasons import ReasonPlan

    try:
        return ReasonPlan.build(names, card)
    except KeyError as exc:
        raise BundleError(f"{CARD_FILE} lists a feature reasons cannot explain: {exc}") \
            from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def load_bundle(directory: str | Path, threads: int = 1) -> Bundle:
    """Load and check a bundle directory; raises BundleError with the reason."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(f"model directory {directory} does not exist")
    card, card_json = _read_card(directory)
    names = tuple(card["features"])
    data = _read_model(directory, card["onnx_sha256"])
    session = _session(data, threads, len(names))
    explainer = _explainer(directory, len(names))
    bundle = Bundle(
        directory=directory,
        card=card,
        card_json=card_json,
        version=str(card["model_version"]),
        threshold=float(card["threshold"]),
        feature_names=names,
        plan=_reason_plan(names, card),
        session=session,
        explainer=explainer,
    )
    _check_consistency(bundle)
    return bundle


def prime_application() -> dict[str, Any]:
    """A valid application (lowest bounds / first categories, nullable fields missing)."""
    app: dict[str, Any] = {}
    for f in schema.FIELDS:
        if f.nullable:
            app[f.name] = None
        elif f.kind == "category":
            app[f.name] = f.categories[0]
        elif f.kind == "integer":
            app[f.name] = int(f.minimum or 0)
        else:
            app[f.name] = float(f.minimum or 0)
    return app


def _check_consistency(bundle: Bundle) -> None:
    """Run the graph and the explainer once: warms both and proves they are one model."""
    inputs = schema.encode_records([prime_application()])
    try:
        features, margin, probability = bundle.session.run(list(OUTPUTS), inputs)
    except Exception as exc:
        raise BundleError(f"{MODEL_FILE} fails to run: {_one_line(exc)}") from None
    if features.shape != (1, len(bundle.feature_names)):
        raise BundleError(f"{MODEL_FILE} features have shape {features.shape}, expected "
                          f"[1, {len(bundle.feature_names)}]")
    total = float(bundle.explain(features).sum())
    if not math.isclose(total, float(margin[0]), rel_tol=0, abs_tol=CONSISTENCY_TOLERANCE):
        raise BundleError(f"{SHAP_FILE} does not match {MODEL_FILE}: contributions sum to "
                          f"{total:.9g}, the graph's margin is {float(margin[0]):.9g}")
    if not 0 <= float(probability[0]) <= 1:
        raise BundleError(f"{MODEL_FILE} returns probability {float(probability[0])!r}")


def download_bundle(uri: str, target_root: str | None = None) -> Path:
    """Copy the serving files under ``s3://bucket/prefix`` to a fresh directory in /tmp."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise BundleError(f"MODEL_S3_URI {uri!r} is not s3://bucket/prefix")
    prefix = prefix.strip("/")
    from scoring.logs import quiet_aws_sdk_loggers

    quiet_aws_sdk_loggers()
    import boto3  # lazily: only when the bundle comes from S3
    from botocore.config import Config

    client: S3Client = boto3.client(
        "s3", config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3})
    )
    target = Path(tempfile.mkdtemp(prefix="model-", dir=target_root or tempfile.gettempdir()))
    for name in SERVING_FILES:
        key = f"{prefix}/{name}" if prefix else name
        try:
            client.download_file(bucket, key, str(target / name))
        except Exception as exc:  # botocore ClientError, connection errors, ...
            shutil.rmtree(target, ignore_errors=True)
            raise BundleError(f"could not download s3://{bucket}/{key}: {_one_line(exc)}") \
                from None
    return target


def download_optional(uri: str, name: str, directory: Path) -> bool:
    """Copy one of OPTIONAL_SERVING_FILES from ``s3://bucket/prefix`` into ``directory``
    (on first use, not at cold start); False when absent or unreachable."""
    if name not in OPTIONAL_SERVING_FILES:
        raise ValueError(f"{name} is not an optional serving file")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    import boto3

    try:
        boto3.client("s3").download_file(bucket, f"{prefix}/{name}" if prefix else name,
                                         str(directory / name))
    except Exception:  # botocore ClientError (404, 403), connection errors, ...
        (directory / name).unlink(missing_ok=True)
        return False
    return True
