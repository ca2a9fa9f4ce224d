"""The drift job's summary carries the shadow challenger's agreement figures (moto S3,
the real handler; a window under MIN_ROWS, so no Evidently run is needed)."""

from __future__ import annotations

import json

from contract.capture_format import encode_capture
from infra.synthetic_traffic import applications, capture_key, capture_records
from tests.functional.drift.test_handler import (
    BUCKET,
    PREFIX,
    WINDOW_DAYS,
    at,
    invoke,
    objects,
    scheduled_event,
)


def test_summary_reports_agreement_decline_rates_and_disagreeing_ids(world) -> None:
    when = at(WINDOW_DAYS[2])
    records = capture_records(applications(100, seed=3), when, model_version="5")
    # The champion approves every one; challenger v6 declines one in four.
    for i, record in enumerate(records):
        record.update(probability=0.1, decision="approve")
        record["challenger"] = {"model_version": "6", "probability": 0.2,
                                "decision": "decline" if i % 4 == 0 else "approve"}
    records[1]["challenger"] = None  # it failed on this one
    world.put_object(Bucket=BUCKET, Key=capture_key(when), Body=encode_capture(records))
    # Older captures without a challenger are read but not tallied.
    plain = capture_records(applications(20, seed=4), at(WINDOW_DAYS[3]))
    world.put_object(Bucket=BUCKET, Key=capture_key(at(WINDOW_DAYS[3])),
                     Body=encode_capture(plain))

    result, _ = invoke(scheduled_event())
    assert result["status"] == "skipped"  # 120 rows < MIN_ROWS: the figures come anyway
    summary = json.loads(objects(world, PREFIX)[PREFIX + "summary.json"])
    shadow = summary["shadow"]
    disagreeing = sorted(r["client_id_hash"] for i, r in enumerate(records) if i % 4 == 0)
    assert shadow == {
        "records_with_challenger": 100, "scored": 99, "challenger_failed": 1,
        "agreement_rate": 74 / 99, "champion_decline_rate": 0.0,
        "challenger_decline_rate": 25 / 99, "disagreements": 25,
        "disagreeing_client_id_hashes": disagreeing, "versions": {"5 vs 6": 99},
    }


def test_without_a_challenger_the_section_is_null(world) -> None:
    when = at(WINDOW_DAYS[2])
    world.put_object(Bucket=BUCKET, Key=capture_key(when),
                     Body=encode_capture(capture_records(applications(50, seed=3), when)))
    invoke(scheduled_event())
    assert json.loads(objects(world, PREFIX)[PREFIX + "summary.json"])["shadow"] is None
