"""The challenger, scored by the monitor on captured applications (off the request path).

A capture holds every applicant field the champion saw, so scoring the captured
applications with the challenger bundle gives exactly what a shadow in the scoring function
would have given, at no cost to any caller. CHALLENGER_MODEL_S3_URI (``s3://bucket/prefix/``
of a bundle) or a local bundle directory names it; only ``model.onnx`` and
``model_card.json`` are read (no explainer: decisions, not reasons).

* :func:`agreement`: decisions of both models on the same applications, and the flips in
  each direction;
* :func:`on_outcomes`: on a matured cohort's booked loans, both models' AUC with a paired
  DeLong test, and each model's observed cost. Both models are judged on the loans the
  champion booked: applicants the champion declined have no outcome for either. A booked
  loan the challenger would have declined is a false positive of the challenger when it
  repaid, so the challenger's observed cost counts those too.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from contract import outcome_stats as st
from contract.bundle import CARD_FILE, MODEL_FILE
from contract.graph import PROBABILITY_OUTPUT
from contract.schema import encode_records

if TYPE_CHECKING:
    from contract.aws import S3Client


@dataclass(frozen=True)
class ChallengerModel:
    """The challenger's graph, threshold and version."""

    version: str
    threshold: float
    session: Any

    @classmethod
    def load(cls, source: str | Path, s3: S3Client | None = None) -> ChallengerModel:
        """From a bundle directory, or an ``s3://`` bundle prefix (downloaded first)."""
        if str(source).startswith("s3://"):
            from drift.outcomes_join import download_prefix
            from drift.outcomes_load import s3_client

            with tempfile.TemporaryDirectory(prefix="challenger-") as tmp:
                download_prefix(s3 or s3_client(), str(source).rstrip("/") + "/", Path(tmp),
                                keep=lambda rel: rel in (MODEL_FILE, CARD_FILE))
                return cls.load(tmp)
        import onnxruntime as ort

        directory = Path(source)
        for name in (MODEL_FILE, CARD_FILE):
            if not (directory / name).is_file():
                raise ValueError(f"no challenger bundle at {source}: {name} is missing")
        card = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(str(directory / MODEL_FILE), options,
                                       providers=["CPUExecutionProvider"])
        return cls(str(card["model_version"]), float(card["threshold"]), session)

    def probabilities(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(default) for encoded applications (contract.schema.encode_records)."""
        if len(next(iter(inputs.values()))) == 0:
            return np.zeros(0)
        (probability,) = self.session.run([PROBABILITY_OUTPUT], dict(inputs))
        return np.asarray(probability, dtype=np.float64)

    def score(self, features: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """P(default) for captured applications (the records' ``features``)."""
        return self.probabilities(encode_records(features))

    def declines(self, probability: np.ndarray) -> np.ndarray:
        return np.asarray(probability >= self.threshold)


def agreement(champion_declined: np.ndarray, challenger_declined: np.ndarray,
              version: str) -> dict[str, Any]:
    """Both models' decisions on the same applications."""
    a, b = np.asarray(champion_declined, bool), np.asarray(challenger_declined, bool)
    n = len(a)
    return {
        "challenger_version": version, "scored": n,
        "agreement_rate": float((a == b).mean()) if n else None,
        "champion_decline_rate": float(a.mean()) if n else None,
        "challenger_decline_rate": float(b.mean()) if n else None,
        "flips": {"approve_to_decline": int((~a & b).sum()),
                  "decline_to_approve": int((a & ~b).sum())},
    }


def on_outcomes(y: np.ndarray, champion: np.ndarray, challenger: np.ndarray,
                challenger_declined: np.ndarray, costs: Mapping[str, float] | None
                ) -> dict[str, Any]:
    """Both models on one matured cohort's booked loans (see the module doc)."""
    y = np.asarray(y, np.int64)
    out: dict[str, Any] = {"loans": len(y), "paired_delong": None}
    if 0 < y.sum() < len(y):
        out["paired_delong"] = st.paired_delong(y, champion, challenger)
    if costs:
        c_fn, c_fp = float(costs["fn"]), float(costs["fp"])
        declined = np.asarray(challenger_declined, bool)
        missed, refused = int((y[~declined] == 1).sum()), int((y[declined] == 0).sum())
        out["observed_cost"] = {
            "champion": {"missed_defaulters": int(y.sum()), "cost": c_fn * int(y.sum())},
            "challenger": {"missed_defaulters": missed, "good_loans_declined": refused,
                           "cost": c_fn * missed + c_fp * refused},
            "note": ("Judged on the loans the champion booked; applicants the champion "
                     "declined have no outcome for either model."),
        }
    return out
