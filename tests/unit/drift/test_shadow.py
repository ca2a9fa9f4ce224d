"""drift.shadow: the challenger agreement figures of the drift summary."""

from __future__ import annotations

from typing import Any

from drift.shadow import MAX_LISTED, ShadowTally


def _record(i: int, champion: str, challenger: str | None, shadowed: bool = True
            ) -> dict[str, Any]:
    record: dict[str, Any] = {"model_version": "3", "client_id_hash": f"h{i:04d}",
                              "decision": champion}
    if shadowed:
        record["challenger"] = None if challenger is None else {
            "model_version": "4", "probability": 0.5, "decision": challenger}
    return record


def test_agreement_decline_rates_and_disagreeing_ids():
    records = (
        [_record(i, "approve", "approve") for i in range(6)]          # agree
        + [_record(6, "decline", "decline")]                          # agree
        + [_record(7, "approve", "decline"), _record(8, "decline", "approve"),
           _record(9, "approve", "decline")]                          # disagree
        + [_record(10, "approve", None)]                              # challenger failed
        + [_record(11, "decline", None, shadowed=False)]              # no challenger then
    )
    summary = ShadowTally().add(records).summary()
    assert summary == {
        "records_with_challenger": 11, "scored": 10, "challenger_failed": 1,
        "agreement_rate": 0.7, "champion_decline_rate": 0.2, "challenger_decline_rate": 0.3,
        "disagreements": 3, "disagreeing_client_id_hashes": ["h0007", "h0008", "h0009"],
        "versions": {"3 vs 4": 10},
    }


def test_no_challenger_records_means_no_section():
    assert ShadowTally().add([_record(1, "approve", None, shadowed=False)]).summary() is None


def test_merging_counts_everything_but_lists_at_most_max_listed():
    total = ShadowTally()
    for start in (0, 80):
        total.merge(ShadowTally().add(
            [_record(i, "approve", "decline") for i in range(start, start + 80)]))
    summary = total.summary()
    assert summary is not None
    assert summary["disagreements"] == 160 and summary["agreement_rate"] == 0.0
    assert len(summary["disagreeing_client_id_hashes"]) == MAX_LISTED
