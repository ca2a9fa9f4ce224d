"""Readable reasons: engineered contributions split onto raw fields, grouped, chosen by the
decision, never protected, never a risk-raising age reason for 62+, plain statements."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from contract import explain, schema
from contract.reasons import (
    MappingValues,
    ReasonPlan,
    group_contributions,
    reason_columns,
    reasons_for_rows,
)

FEATURES = ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3", "EXT_SOURCE_MEAN", "EXT_SOURCE_MIN",
            "EXT_SOURCE_MAX", "EXT_SOURCE_COUNT", "AMT_CREDIT", "AMT_GOODS_PRICE",
            "CREDIT_GOODS_RATIO", "DAYS_BIRTH", "EMPLOYED_AGE_RATIO", "DAYS_EMPLOYED",
            "FLAG_DOCUMENT_3", "FLAG_DOCUMENT_6", "CODE_GENDER", "OCCUPATION_TYPE")
J = {name: j for j, name in enumerate(FEATURES)}
CARD: dict[str, Any] = {
    "protected_attributes": ["CODE_GENDER"],
    "schema": [{"name": "EXT_SOURCE_3", "label": "score from external credit bureau 3",
                "observed": {"median": 0.5}},
               {"name": "AMT_CREDIT", "observed": {"median": 500_000.0}},
               {"name": "DAYS_BIRTH", "observed": {"median": -15_000}}],
}
PLAN = ReasonPlan.build(FEATURES, CARD)
BASE = -2.5


def _app(**values: Any) -> dict[str, Any]:
    app: dict[str, Any] = {f.name: None for f in schema.FIELDS}
    app.update({"EXT_SOURCE_1": None, "EXT_SOURCE_2": 0.6, "EXT_SOURCE_3": 0.27,
                "AMT_CREDIT": 900_000.0, "AMT_GOODS_PRICE": 800_000.0, "DAYS_BIRTH": -12_000,
                "DAYS_EMPLOYED": -1_000, "FLAG_DOCUMENT_3": 1, "FLAG_DOCUMENT_6": 0,
                "CODE_GENDER": "M", "OCCUPATION_TYPE": "Drivers"})
    app.update(values)
    return app


def _phi(**contributions: float) -> np.ndarray:
    row = np.zeros(len(FEATURES) + 1)
    for name, value in contributions.items():
        row[J[name]] = value
    row[-1] = BASE
    return row[None, :]


def _explain(phi: np.ndarray, app: dict[str, Any], declined: bool, k: int = 10
             ) -> dict[str, Any]:
    (out,) = reasons_for_rows(phi, [app], [declined], PLAN, k)
    return out


def _by_fields(out: dict[str, Any]) -> dict[tuple[str, ...], float]:
    return {tuple(r["fields"]): r["contribution"] for r in out["reasons"]}


def test_external_score_aggregates_go_to_the_scores_they_come_from():
    """MIN -> the lowest present score, MAX -> the highest, MEAN -> equally over the present
    ones, COUNT -> the missing one; the shares add up exactly."""
    phi = _phi(EXT_SOURCE_MIN=0.4, EXT_SOURCE_MAX=0.1, EXT_SOURCE_MEAN=0.3, EXT_SOURCE_COUNT=0.05,
               EXT_SOURCE_3=0.02)
    out = _explain(phi, _app(), declined=True)
    got = _by_fields(out)
    assert got[("EXT_SOURCE_3",)] == pytest.approx(0.4 + 0.15 + 0.02, abs=1e-15)  # the min
    assert got[("EXT_SOURCE_2",)] == pytest.approx(0.1 + 0.15, abs=1e-15)         # the max
    assert got[("EXT_SOURCE_1",)] == pytest.approx(0.05, abs=1e-15)               # missing
    assert math.fsum(got.values()) == pytest.approx(0.87, abs=1e-12)
    assert out["other_log_odds"] == pytest.approx(0.0, abs=1e-12)


def test_ratio_splits_onto_both_fields_and_additivity_holds():
    phi = _phi(CREDIT_GOODS_RATIO=0.3, AMT_CREDIT=0.1, AMT_GOODS_PRICE=-0.04,
               OCCUPATION_TYPE=0.07, EXT_SOURCE_2=-0.2)
    out = _explain(phi, _app(), declined=True, k=2)
    got = _by_fields(out)
    assert got == {("AMT_CREDIT",): pytest.approx(0.25), ("AMT_GOODS_PRICE",): pytest.approx(0.11)}
    margin = phi[0].sum()
    total = out["base_log_odds"] + math.fsum(got.values()) + out["other_log_odds"]
    assert total == pytest.approx(margin, abs=1e-12)
    assert out["base_log_odds"] == BASE


def test_fields_of_one_group_form_one_reason():
    phi = _phi(FLAG_DOCUMENT_3=0.2, FLAG_DOCUMENT_6=0.1)
    (reason,) = _explain(phi, _app(), declined=True)["reasons"]
    assert reason["fields"] == ["FLAG_DOCUMENT_3", "FLAG_DOCUMENT_6"]
    assert reason["contribution"] == pytest.approx(0.3)
    assert reason["values"] == {"FLAG_DOCUMENT_3": 1, "FLAG_DOCUMENT_6": 0}
    assert reason["statement"] == "Documents provided with the application raise the risk"
    # One contributing field of a group: that field's own statement.
    (single,) = _explain(_phi(FLAG_DOCUMENT_3=0.2), _app(), declined=True)["reasons"]
    assert single["fields"] == ["FLAG_DOCUMENT_3"]
    assert single["statement"] == "Document 3 provided: yes, which raises the risk"


def test_decline_lists_only_risk_raising_reasons_largest_first():
    phi = _phi(EXT_SOURCE_3=0.5, AMT_CREDIT=-0.9, OCCUPATION_TYPE=0.2, DAYS_EMPLOYED=0.3)
    out = _explain(phi, _app(), declined=True)
    assert [r["fields"] for r in out["reasons"]] == [["EXT_SOURCE_3"], ["DAYS_EMPLOYED"],
                                                     ["OCCUPATION_TYPE"]]
    assert all(r["direction"] == "increases_risk" for r in out["reasons"])
    assert out["other_log_odds"] == pytest.approx(-0.9)
    approved = _explain(phi, _app(), declined=False)
    assert [r["fields"] for r in approved["reasons"]] == [["AMT_CREDIT"]]
    assert approved["reasons"][0]["direction"] == "decreases_risk"


def test_protected_attribute_is_never_a_reason():
    phi = _phi(CODE_GENDER=0.8, EXT_SOURCE_3=0.1)
    out = _explain(phi, _app(), declined=True)
    assert [r["fields"] for r in out["reasons"]] == [["EXT_SOURCE_3"]]
    assert out["other_log_odds"] == pytest.approx(0.8)


def test_group_contributions_are_the_reasons_values_and_sum_to_the_margin():
    """Every unit's contribution, the one its reason carries; units sum to the features'."""
    phi = _phi(CREDIT_GOODS_RATIO=0.3, AMT_CREDIT=0.1, EXT_SOURCE_MIN=0.4, EXT_SOURCE_MEAN=0.2,
               FLAG_DOCUMENT_3=0.2, FLAG_DOCUMENT_6=0.1, CODE_GENDER=0.8,
               EMPLOYED_AGE_RATIO=-0.3)
    app = _app()
    (by_unit,) = group_contributions(phi, [app], PLAN)
    assert by_unit.shape == (len(PLAN.unit_keys),)
    assert math.fsum(by_unit.tolist()) == pytest.approx(phi[0, :-1].sum(), abs=1e-12)
    unit = {key: u for u, key in enumerate(PLAN.unit_keys)}
    assert by_unit[unit["AMT_CREDIT"]] == pytest.approx(0.25)
    assert by_unit[unit["DOCUMENTS"]] == pytest.approx(0.3)
    assert by_unit[unit["CODE_GENDER"]] == pytest.approx(0.8)
    assert PLAN.unit_banned[unit["CODE_GENDER"]]
    for reason in _explain(phi, app, declined=True)["reasons"] + \
            _explain(phi, app, declined=False)["reasons"]:
        (u,) = {unit_of(PLAN, f) for f in reason["fields"]}
        assert reason["contribution"] == by_unit[u]


def unit_of(plan: ReasonPlan, field: str) -> int:
    i = plan.fields.index(field)
    return next(u for u, members in enumerate(plan.unit_fields) if i in members)


@pytest.mark.parametrize(("years", "listed"), [(61.9, True), (62.0, False), (80, False)])
def test_no_risk_raising_age_reason_at_62_or_over(years, listed):
    """Age and the age share of EMPLOYED_AGE_RATIO form the DAYS_BIRTH reason; from 62 on a
    risk-raising one is never given (its contribution stays in other_log_odds)."""
    app = _app(DAYS_BIRTH=-math.ceil(years * explain.DAYS_PER_YEAR))
    phi = _phi(DAYS_BIRTH=0.3, EMPLOYED_AGE_RATIO=0.2, EXT_SOURCE_3=0.1)
    fields = [r["fields"] for r in _explain(phi, app, declined=True)["reasons"]]
    assert (["DAYS_BIRTH"] in fields) is listed
    assert ["DAYS_EMPLOYED"] in fields  # the other half of the ratio is not about age
    # A risk-lowering age factor may still be given on an approval.
    lowering = _explain(_phi(DAYS_BIRTH=-0.3), app, declined=False)
    assert [r["fields"] for r in lowering["reasons"]] == [["DAYS_BIRTH"]]


def test_statements_name_the_field_value_and_missing_values():
    phi = _phi(EXT_SOURCE_1=0.3, EXT_SOURCE_3=0.2, AMT_CREDIT=0.1, DAYS_BIRTH=0.05,
               OCCUPATION_TYPE=0.04)
    statements = {tuple(r["fields"]): r["statement"]
                  for r in _explain(phi, _app(), declined=True)["reasons"]}
    raised = ", which raises the risk"
    assert statements[("EXT_SOURCE_1",)] == (
        "No score from external credit bureau 1 on file" + raised)
    assert statements[("EXT_SOURCE_3",)] == (
        "Score from external credit bureau 3 is low (0.27)" + raised)
    assert statements[("AMT_CREDIT",)] == "Loan amount is high (900,000)" + raised
    assert statements[("DAYS_BIRTH",)] == "Age is low (32.9 years)" + raised
    assert statements[("OCCUPATION_TYPE",)] == "Occupation: Drivers" + raised
    assert explain.statement("OWN_CAR_AGE", "age of the applicant's car", None, 9.0, True) == (
        "No age of the applicant's car on file, which raises the risk")
    assert explain.statement("DAYS_EMPLOYED", "time in the current job",
                             schema.DAYS_EMPLOYED_SENTINEL, -1500.0, True) == (
        "Not in employment, which raises the risk")


def test_equal_contributions_are_listed_in_unit_order():
    """A tie in |contribution| keeps the plan's unit order, whatever the features' order."""
    out = _explain(_phi(OCCUPATION_TYPE=0.25, AMT_CREDIT=0.25, DAYS_EMPLOYED=0.25), _app(),
                   declined=True)
    listed = [unit_of(PLAN, r["fields"][0]) for r in out["reasons"]]
    assert listed == sorted(listed) and len(listed) == 3


def test_a_row_gets_the_same_reasons_alone_and_in_a_batch():
    """Rows that exercise every rule (aggregates, ratios, groups with one or two fields
    speaking, protected and elderly units, fewer reasons than asked) give the same reasons,
    bit for bit, alone and together; reason_columns holds what reasons_for_rows lists."""
    rng = np.random.default_rng(7)
    rows = 60
    phi = np.zeros((rows, len(FEATURES) + 1))
    phi[:, :-1] = rng.normal(0, 0.3, (rows, len(FEATURES))) * (rng.random(
        (rows, len(FEATURES))) < 0.6)
    phi[:, -1] = BASE
    apps = [_app(DAYS_BIRTH=-int(rng.integers(20, 75) * explain.DAYS_PER_YEAR),
                 EXT_SOURCE_1=None if i % 3 else float(rng.random()),
                 EXT_SOURCE_3=round(float(rng.random()), 2), FLAG_DOCUMENT_6=i % 2)
            for i in range(rows)]
    declined = (rng.random(rows) < 0.5).tolist()
    together = reasons_for_rows(phi, apps, declined, PLAN, 6)
    alone = [reasons_for_rows(phi[i:i + 1], apps[i:i + 1], declined[i:i + 1], PLAN, 6)[0]
             for i in range(rows)]
    assert together == alone
    counts = {len(e["reasons"]) for e in together}
    assert min(counts) < 6 < max(counts) + 1  # some rows have fewer reasons than asked
    table = reason_columns(phi, MappingValues(apps), np.array(declined), PLAN, 6)
    for row, explained in enumerate(together):
        listed = explained["reasons"]
        assert (table.unit[row] >= 0).sum() == len(listed)
        for slot, reason in enumerate(listed):
            assert table.field_sets[table.field_set[row, slot]] == tuple(reason["fields"])
            assert table.statement[row, slot] == reason["statement"]
            assert table.contribution[row, slot] == reason["contribution"]
        assert all(s is None for s in table.statement[row, len(listed):])
        assert table.other_log_odds[row] == explained["other_log_odds"]
