"""Reasons an applicant can read: the engine is contract.reasons (shared with training's
golden set); see its docstring for the rules (attribution to applicant fields, grouping,
decline -> principal risk-raising reasons only, approval -> risk-lowering ones, never a
protected attribute, never a risk-raising age reason for 62+, plain statements)."""

from __future__ import annotations

from contract.reasons import DECREASES, INCREASES, ReasonPlan, reasons_for_rows


def reason_group(feature: str) -> str:
    """The group of a model feature in which /compare splits the gap between two
    applicants: each feature is its own group there (an engineered feature's share of each
    field depends on the row, so a per-feature delta is the exact, comparable unit)."""
    return feature


__all__ = ["DECREASES", "INCREASES", "ReasonPlan", "reason_group", "reasons_for_rows"]
