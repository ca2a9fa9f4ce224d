"""What the exported ONNX graph (training) and the scoring function agree on."""

from __future__ import annotations

from typing import Final

import numpy as np

#: Graph inputs: the request's numeric fields (float64) and category fields (strings).
NUMERIC_INPUT: Final = "numeric"
CATEGORICAL_INPUT: Final = "categorical"
#: Graph outputs: model features [N, F], margin (log-odds) [N], probability [N].
FEATURES_OUTPUT: Final = "features"
MARGIN_OUTPUT: Final = "margin"
PROBABILITY_OUTPUT: Final = "probability"
OUTPUTS: Final = (FEATURES_OUTPUT, MARGIN_OUTPUT, PROBABILITY_OUTPUT)

#: LightGBM's kZeroThreshold (the float literal 1e-35f widened to double): its predictor reads
#: any |x| at or below it as 0.0. The exported trees and the TreeSHAP explainer both apply it.
ZERO_THRESHOLD: Final = float(np.float32(1e-35))

#: Version of the ``shap_paths.npz`` layout (written by training, read by serving).
SHAP_PATHS_FORMAT_VERSION: Final = 1
#: LightGBM's missing-value modes as stored in ``shap_paths.npz``.
MISSING_TYPES: Final = {"None": 0, "Zero": 1, "NaN": 2}
