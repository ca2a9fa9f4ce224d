"""contract.outcome_format: the outcome layout and record keys."""

from __future__ import annotations

from datetime import date

from contract.outcome_format import DEFAULT_PREFIX, OutcomeRecord, day_prefix


def test_outcomes_are_partitioned_by_observation_day():
    assert day_prefix(date(2027, 5, 31)) == "outcomes/dt=2027-05-31/"
    assert day_prefix(date(2027, 5, 31), "x/") == "x/dt=2027-05-31/"
    assert DEFAULT_PREFIX == "outcomes/"


def test_the_record_keys_are_the_joins_columns():
    from drift.outcomes_join import OUTCOME_COLUMNS

    assert set(OutcomeRecord.__annotations__) == set(OUTCOME_COLUMNS)
