"""The card's governance sections."""

from __future__ import annotations

from typing import Any

from training import governance


def _sections(protected: tuple[str, ...]) -> dict[str, Any]:
    return governance.sections(source="sample.csv", rows=5000, rows_train=4000, rows_test=1000,
                               default_rate=0.0772, protected=protected)


def test_sections_name_use_limits_and_human_review():
    s = _sections(("CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS"))
    assert set(s) == {"intended_use", "out_of_scope_uses", "limitations", "human_oversight"}
    assert "Article 22" in s["human_oversight"]["right_to_review"]
    assert "5,000 applications" in s["limitations"]["training_data"]
    assert "7.7%" in s["limitations"]["training_data"]
    assert "4,000 rows" in s["limitations"]["sample_size"]
    assert "left out of the model" in s["limitations"]["age"]
    assert "CODE_GENDER, DAYS_BIRTH, NAME_FAMILY_STATUS never reach the model" in (
        s["limitations"]["protected_attributes"])
    assert any("marital status" in use for use in s["out_of_scope_uses"])


def test_age_note_follows_the_protected_attributes():
    assert "never receives a risk-raising reason" in _sections(("CODE_GENDER",))[
        "limitations"]["age"]
