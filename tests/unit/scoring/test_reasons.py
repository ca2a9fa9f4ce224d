"""scoring.reasons: the request path's reasons are contract.reasons' (tested in
tests/unit/contract/test_reasons.py); /compare's groups are single features."""

from __future__ import annotations

import contract.reasons
from scoring import reasons


def test_serving_uses_the_contract_engine():
    assert reasons.reasons_for_rows is contract.reasons.reasons_for_rows
    assert reasons.ReasonPlan is contract.reasons.ReasonPlan


def test_compare_groups_are_single_features():
    assert reasons.reason_group("EXT_SOURCE_MEAN") == "EXT_SOURCE_MEAN"
