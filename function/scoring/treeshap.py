"""Exact TreeSHAP reason codes with numpy only (no shap, no lightgbm at serving time).

Reproduces LightGBM's ``booster.predict(X, pred_contrib=True)`` (path-dependent TreeSHAP,
covers = training row counts) from the arrays ``training/treeshap_export.py`` exports.

Algorithm. TreeSHAP is a sum over root-to-leaf paths (the decomposition GPUTreeShap uses).
For a path with leaf value ``v`` and unique-feature elements ``j`` (zero fraction ``z_j``
= product of the cover ratios of the element's splits; one fraction ``o_j`` = 1 if the row
satisfies all of them, else 0), the Shapley value of element ``i`` of the path game
``f(S) = v * prod_{j in S} o_j * prod_{j not in S} z_j`` is::

    phi_i = v * (o_i - z_i) * sum_S |S|! (d-|S|-1)! / d! * prod_{j in S} o_j prod_{j not in S+i} z_j
          = v * (o_i - z_i) * integral_0^1 prod_{j != i} (z_j (1 - q) + o_j q) dq

because ``s! (d-s-1)! / d!`` is the Beta integral of ``q^s (1-q)^(d-s-1)``. The integrand is a
polynomial of degree ``d - 1`` in ``q``, so ``ceil(d/2)``-point Gauss-Legendre quadrature
integrates it exactly. This is the same quantity the EXTEND/UNWIND recurrences compute,
but it vectorises as a handful of whole-array operations over (depth x nodes x paths):
no sequential recurrence. Padding elements (``z = o = 1``) contribute the factor 1, a null
player, so paths of different lengths can share one padded array.

With quadrature nodes ``q_k`` and weights ``a_k`` (all paths of a group share them)::

    s[k, p]   = v_p a_k exp(sum_j log(z_j (1 - q_k)) + sum_j o_j log(1 + q_k / (z_j (1 - q_k))))
    phi_i    += sum_k s[k, p] (1 - z_i) / (z_i (1 - q_k) + q_k)    if element i is hot (o_i = 1)
    phi_i    += sum_k s[k, p] (-1 / (1 - q_k))                      if it is cold (o_i = 0)

The product over the path becomes a masked sum in log space, i.e. one ``einsum`` over
(depth x nodes x paths) with the row's 0/1 hot mask; everything else is precomputed.

Paths are grouped by length (a small DP over a cost model picks the groups) so short paths
use fewer quadrature nodes and less padding; everything that does not depend on the row
is precomputed in ``from_arrays``. A batch is explained row by row.

Split decisions follow LightGBM's prediction exactly, in float64 against the exact double
thresholds: values with |x| <= 1e-35f (kZeroThreshold) become 0.0 (LightGBM's predictor drops
them when it reads a dense row); then ``NumericalDecision``: missing type "None" treats NaN
as 0.0; "Zero" sends NaN and zeros to the default side; "NaN" sends NaN to the default
side; otherwise ``x <= t`` goes left (+-inf compare as usual; thresholds may be +-inf).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from contract.graph import MISSING_TYPES, SHAP_PATHS_FORMAT_VERSION, ZERO_THRESHOLD

_MISSING_NONE, _MISSING_ZERO = MISSING_TYPES["None"], MISSING_TYPES["Zero"]
#: Zero fractions are clamped here so logs stay finite (LightGBM children always hold rows;
#: a zero-count child would change results by ~1e-300 relative).
_MIN_ZERO_FRACTION = 1e-300
#: Cost model for grouping paths by length (units: element-operations): a group costs its
#: padded elements times (quadrature nodes + per-element passes) plus a fixed overhead.
_ELEMENT_PASSES = 4
_GROUP_OVERHEAD = 20_000
#: Rows whose split decisions are taken together (a block's masks stay in cache).
_HOT_BLOCK_ROWS = 256


@dataclass(frozen=True)
class _Group:
    """Paths of similar length in (depth x quadrature node x path) layout."""

    start: int  # first element of the group in the flat element arrays
    depth: int  # D: padded path length
    paths: int  # P
    log_ratio: np.ndarray  # [D, K, P] log(hot factor / cold factor); 0 for pads
    log_cold: np.ndarray  # [K, P] sum over the path of log(cold factor)
    value_weight: np.ndarray  # [K, P] leaf value * quadrature weight
    hot_coef: np.ndarray  # [D, K, P] (1 - z) / hot factor
    cold_coef: np.ndarray  # [K] (0 - z) / cold factor = -1 / (1 - q)


class TreeShap:
    """Exact TreeSHAP contributions of a LightGBM model, from exported path arrays."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        version = int(arrays["format_version"])
        if version != SHAP_PATHS_FORMAT_VERSION:
            raise ValueError(f"shap_paths format {version} is not {SHAP_PATHS_FORMAT_VERSION}")
        self.num_features = int(arrays["num_features"])
        self.expected_value = float(arrays["expected_value"])

        # Split decisions.
        threshold = np.asarray(arrays["node_threshold"], dtype=np.float64)
        missing = np.asarray(arrays["node_missing_type"], dtype=np.int8)
        default_left = np.asarray(arrays["node_default_left"], dtype=bool)
        self._node_feature = np.asarray(arrays["node_feature"], dtype=np.intp)
        if self._node_feature.size and not 0 <= self._node_feature.max() < self.num_features:
            raise ValueError(f"node_feature outside [0, {self.num_features})")
        self._threshold = threshold
        # Where NaN goes: "None" compares 0.0 <= t, "Zero" and "NaN" take the default side.
        self._nan_left = np.where(missing == _MISSING_NONE, threshold >= 0.0, default_left)
        zero = np.flatnonzero(missing == _MISSING_ZERO)
        self._zero_nodes = zero if zero.size else None
        self._zero_left = default_left[zero]

        # Paths, grouped by length, each group laid out [depth, path].
        length = np.asarray(arrays["path_length"], dtype=np.intp)
        value = np.asarray(arrays["path_value"], dtype=np.float64)
        feature = np.asarray(arrays["elem_feature"], dtype=np.intp)
        zero_fraction = np.asarray(arrays["elem_zero_fraction"], dtype=np.float64)
        condition = np.asarray(arrays["elem_condition"], dtype=np.intp)
        if condition.ndim != 3 or condition.shape[:2] != feature.shape:
            raise ValueError("elem_condition must be [paths, depth, splits]")

        self._groups: list[_Group] = []
        out_index, first, extra_pos, extra = [], [], [], []
        start = 0
        for members, depth in _group_paths(length):
            cond = condition[members, :depth].transpose(1, 0, 2)  # [D, P, M]
            feat = feature[members, :depth].T  # [D, P]
            pad = feat < 0
            out_index.append(np.where(pad, self.num_features, feat).ravel())
            # First condition of each element (pads: any node; their output is dropped).
            first.append(np.where(pad, 0, cond[:, :, 0]).ravel())
            # Further conditions of merged elements (a feature split more than once).
            d, p, m = np.nonzero(cond[:, :, 1:] >= 0)
            extra_pos.append(start + d * len(members) + p)
            extra.append(cond[d, p, m + 1])
            self._groups.append(
                _make_group(start, zero_fraction[members, :depth].T, pad, value[members])
            )
            start += depth * len(members)
        self._elements = start
        # Hot-mask rows start on 64-byte boundaries: numpy reads a misaligned row slowly.
        self._hot_width = -(-start // 64) * 64
        self._out_index = np.concatenate(out_index) if out_index else np.zeros(0, np.intp)
        first_cond = np.concatenate(first) if first else np.zeros(0, np.intp)
        self._elem_node, self._elem_right = first_cond // 2, (first_cond % 2).astype(bool)
        extra_cond = np.concatenate(extra) if extra else np.zeros(0, np.intp)
        self._extra_pos = np.concatenate(extra_pos) if extra_pos else np.zeros(0, np.intp)
        self._extra_node = extra_cond // 2
        self._extra_right = (extra_cond % 2).astype(bool)

    @property
    def layout(self) -> list[tuple[int, int, int]]:
        """(padded depth, paths, quadrature nodes) per path group: for benchmarks and logs."""
        return [(g.depth, g.paths, g.cold_coef.size) for g in self._groups]

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> TreeShap:
        """Build from the dict ``export_paths`` returns (or a loaded npz)."""
        return cls(arrays)

    @classmethod
    def load(cls, path: str | Path) -> TreeShap:
        """Load ``shap_paths.npz`` (no pickles)."""
        with np.load(path, allow_pickle=False) as npz:
            return cls.from_arrays({key: npz[key] for key in npz.files})

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """SHAP values: float64 [N, F] (or [F]) -> [N, F+1], last column the expected value.

        Same layout as LightGBM ``predict(X, pred_contrib=True)``; each row sums to the raw
        margin. A 1-D input is one row and returns [1, F+1].
        """
        x = np.asarray(features, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"expected features of shape [N, {self.num_features}], got {np.shape(features)}"
            )
        out = np.empty((x.shape[0], self.num_features + 1), dtype=np.float64)
        out[:, -1] = self.expected_value
        # Hot masks for a block of rows at once (booleans: the same whatever the block);
        # the quadrature row by row, so a row's values never depend on its batch
        # (docs/decisions.md, "TreeSHAP").
        for first in range(0, x.shape[0], _HOT_BLOCK_ROWS):
            block = x[first:first + _HOT_BLOCK_ROWS]
            for i, hot in enumerate(self._hot(block), start=first):
                out[i, :-1] = self._explain(hot)
        return out

    def _hot(self, x: np.ndarray) -> np.ndarray:
        """[N, elements] booleans: does each row of x [N, F] satisfy all splits of each
        path element?"""
        # LightGBM's predictor reads a dense row as sparse pairs and drops |x| <= 1e-35f,
        # so such values reach the trees as 0.0 (NaN is kept).
        x = np.where(np.abs(x) <= ZERO_THRESHOLD, 0.0, x)
        value = x.take(self._node_feature, axis=1)  # take: a fraction of [:, index]'s cost
        left = value <= self._threshold
        nan = np.isnan(value)
        if nan.any():
            left = np.where(nan, self._nan_left, left)
        if self._zero_nodes is not None:
            zero = value.take(self._zero_nodes, axis=1) == 0.0
            left[:, self._zero_nodes] = np.where(zero, self._zero_left,
                                                 left.take(self._zero_nodes, axis=1))
        hot: np.ndarray = np.empty((x.shape[0], self._hot_width), dtype=bool)[:, :self._elements]
        np.not_equal(left.take(self._elem_node, axis=1), self._elem_right, out=hot)
        if self._extra_pos.size:
            rows, extra = np.nonzero(left.take(self._extra_node, axis=1) == self._extra_right)
            hot[rows, self._extra_pos[extra]] = False
        return hot

    def _explain(self, hot: np.ndarray) -> np.ndarray:
        """One row's SHAP values [F] from its element hot mask [E]."""
        mask = hot.astype(np.float64)
        contrib = np.empty(self._elements, dtype=np.float64)
        for g in self._groups:
            span = slice(g.start, g.start + g.depth * g.paths)
            scale = np.einsum("dp,dkp->kp", mask[span].reshape(g.depth, g.paths), g.log_ratio)
            scale += g.log_cold
            np.exp(scale, out=scale)
            scale *= g.value_weight  # [K, P]
            hot_part = np.einsum("dkp,kp->dp", g.hot_coef, scale)
            cold_part = g.cold_coef @ scale  # [P]
            contrib[span] = np.where(
                hot[span].reshape(g.depth, g.paths), hot_part, cold_part
            ).ravel()
        phi = np.bincount(self._out_index, contrib, minlength=self.num_features + 1)
        return phi[:-1]


def _group_paths(length: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Split paths into groups by length, minimising the cost model (exact DP on lengths)."""
    if length.size == 0:
        return []
    lengths = np.unique(length)
    count = np.array([(length == n).sum() for n in lengths])
    cumulative = np.concatenate([[0], np.cumsum(count)])

    def cost(i: int, j: int) -> float:  # group holding lengths[i:j]
        depth = int(lengths[j - 1])
        paths = int(cumulative[j] - cumulative[i])
        return paths * depth * ((depth + 1) // 2 + _ELEMENT_PASSES) + _GROUP_OVERHEAD

    best = [0.0] + [np.inf] * len(lengths)
    cut = [0] * (len(lengths) + 1)
    for j in range(1, len(lengths) + 1):
        for i in range(j):
            c = best[i] + cost(i, j)
            if c < best[j]:
                best[j], cut[j] = c, i
    groups, j = [], len(lengths)
    while j > 0:
        i = cut[j]
        members = np.flatnonzero(
            (length > (lengths[i - 1] if i else 0)) & (length <= lengths[j - 1])
        )
        groups.append((members, int(lengths[j - 1])))
        j = i
    return groups[::-1]


def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss-Legendre nodes and weights on [-1, 1] (Golub-Welsch).

    Same values as numpy.polynomial.legendre.leggauss, without importing numpy.polynomial
    (and numpy.ma) at cold start.
    """
    k = np.arange(1, n, dtype=np.float64)
    off_diagonal = k / np.sqrt(4.0 * k * k - 1.0)
    nodes, vectors = np.linalg.eigh(np.diag(off_diagonal, 1) + np.diag(off_diagonal, -1))
    return nodes, 2.0 * vectors[0] ** 2


def _make_group(
    start: int, zero_fraction: np.ndarray, pad: np.ndarray, value: np.ndarray
) -> _Group:
    """Precompute a group's row-independent factors; ``zero_fraction``/``pad`` are [D, P]."""
    depth, paths = zero_fraction.shape
    points, weights = _gauss_legendre((depth + 1) // 2)
    q = ((points + 1.0) / 2.0)[None, :, None]  # [1, K, 1]: nodes on (0, 1)
    z = np.maximum(zero_fraction, _MIN_ZERO_FRACTION)[:, None, :]  # [D, 1, P]
    real = ~pad[:, None, :]
    cold = z * (1.0 - q)
    log_ratio = np.where(real, np.log1p(q / cold), 0.0)
    log_cold = np.where(real, np.log(cold), 0.0).sum(axis=0)
    hot_coef = np.where(real, (1.0 - z) / (cold + q), 0.0)
    return _Group(
        start=start,
        depth=depth,
        paths=paths,
        log_ratio=np.ascontiguousarray(log_ratio),
        log_cold=np.ascontiguousarray(log_cold),
        value_weight=np.ascontiguousarray(value[None, :] * (weights / 2.0)[:, None]),
        hot_coef=np.ascontiguousarray(hot_coef),
        cold_coef=-1.0 / (1.0 - q[0, :, 0]),
    )
