"""scoring.reasons: the request path's reasons are contract.reasons' (tested in
tests/unit/contract/test_reasons.py); /compare splits the gap over the reasons' units, with a
protected unit pooled into a field-less 'other' group."""

from __future__ import annotations

import math

import numpy as np
import pytest

import contract.reasons
from scoring import reasons
from scoring.compare import OTHER_GROUP, _groups

FEATURES = ("AMT_CREDIT", "AMT_GOODS_PRICE", "CREDIT_GOODS_RATIO", "FLAG_DOCUMENT_3",
            "FLAG_DOCUMENT_6", "CODE_GENDER")
PLAN = reasons.ReasonPlan.build(FEATURES, {"protected_attributes": ["CODE_GENDER"]})


def test_serving_uses_the_contract_engine():
    assert reasons.reasons_for_rows is contract.reasons.reasons_for_rows
    assert reasons.ReasonPlan is contract.reasons.ReasonPlan
    assert reasons.group_contributions is contract.reasons.group_contributions


def test_compare_groups_are_reason_units_and_never_protected():
    phi = np.array([[0.25, 0.0, 0.5, 0.25, 0.0, 0.5, -2.0],
                    [0.5, -0.125, 0.0, 0.25, 0.0625, -0.25, -2.0]])
    apps = [{"AMT_CREDIT": 1.0, "AMT_GOODS_PRICE": 1.0}] * 2
    groups = _groups(reasons.group_contributions(phi, apps, PLAN), PLAN)
    got = {g["group"]: g for g in groups}
    # AMT_CREDIT: 0.25 + 0.5 / 2 for a, 0.5 + 0 for b: unchanged, so not listed.
    assert list(got) == [OTHER_GROUP, "AMT_GOODS_PRICE", "DOCUMENTS"]
    assert got[OTHER_GROUP]["fields"] == [] and got[OTHER_GROUP]["delta"] == -0.75
    assert got["AMT_GOODS_PRICE"]["contribution_a"] == 0.25
    assert got["AMT_GOODS_PRICE"]["delta"] == -0.375
    assert got["DOCUMENTS"]["fields"] == ["FLAG_DOCUMENT_3", "FLAG_DOCUMENT_6"]
    assert got["DOCUMENTS"]["label"] == "documents provided with the application"
    assert all("CODE_GENDER" not in g["fields"] for g in groups)
    assert math.fsum(g["delta"] for g in groups) == pytest.approx(
        phi[1].sum() - phi[0].sum(), abs=1e-12)
