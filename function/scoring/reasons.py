"""Reasons an applicant can read: the engine is contract.reasons (shared with training's
golden set); see its docstring for the rules (attribution to applicant fields, grouping,
decline -> principal risk-raising reasons only, approval -> risk-lowering ones, never a
protected attribute, never a risk-raising age reason for 62+, plain statements).
/compare splits the gap between two applicants over the same units
(contract.reasons.group_contributions)."""

from __future__ import annotations

from contract.reasons import (
    DECREASES,
    INCREASES,
    ReasonPlan,
    group_contributions,
    reasons_for_rows,
)

__all__ = ["DECREASES", "INCREASES", "ReasonPlan", "group_contributions", "reasons_for_rows"]
