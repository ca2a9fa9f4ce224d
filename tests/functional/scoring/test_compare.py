"""POST /compare through the FastAPI app with the synthetic test bundle: the groups are the
reasons' units and their deltas sum to the margin difference, protected fields change
nothing, the differing fields, and errors named like /predict's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contract import explain, schema
from contract.graph import MARGIN_OUTPUT
from scoring.compare import OTHER_GROUP, CompareResponse
from scoring.config import MAX_REASONS
from scoring.request import encode


def single_p(client: TestClient, app: dict[str, Any]) -> float:
    return float(client.post("/predict", json=app).json()["probability_default"])


def test_compare_deltas_sum_to_the_margin_difference(client, scoring_app, apps) -> None:
    bundle = scoring_app.state.service.bundle()
    for a, b in zip(apps[:6], apps[6:12], strict=True):
        response = client.post("/compare", json={"a": a, "b": b})
        assert response.status_code == 200, response.text
        body = response.json()
        CompareResponse.model_validate(body)
        total = math.fsum(g["delta"] for g in body["groups"])
        assert abs(total - body["margin_difference"]) <= 1e-9
        assert body["margin_difference"] == body["margin_b"] - body["margin_a"]
        margins = bundle.session.run([MARGIN_OUTPUT], encode([a, b]))[0]
        assert abs(body["margin_a"] - margins[0]) <= 1e-6
        assert abs(body["margin_b"] - margins[1]) <= 1e-6
        # The same predictions as /predict (onnxruntime may round the last bit of a
        # probability differently in a batch of two than alone).
        single = [client.post("/predict", json=x).json() for x in (a, b)]
        for got, alone in zip((body["a"], body["b"]), single, strict=True):
            assert math.isclose(got.pop("probability_default"),
                                alone.pop("probability_default"), rel_tol=1e-12)
            assert [r["fields"] for r in got.pop("reasons")] == [
                r["fields"] for r in alone.pop("reasons")]
            for key in ("base_log_odds", "other_log_odds"):
                assert got.pop(key) == pytest.approx(alone.pop(key), abs=1e-9)
            assert got == alone
        assert body["probability_difference"] == pytest.approx(
            single_p(client, b) - single_p(client, a), abs=1e-12)
        for g in body["groups"]:
            assert g["delta"] == g["contribution_b"] - g["contribution_a"] or math.isclose(
                g["delta"], g["contribution_b"] - g["contribution_a"], abs_tol=1e-12)
        deltas = [abs(g["delta"]) for g in body["groups"]]
        assert deltas == sorted(deltas, reverse=True) and all(d > 0 for d in deltas)
        keys = [g["group"] for g in body["groups"]]
        assert len(set(keys)) == len(keys) and OTHER_GROUP not in keys
        for g in body["groups"]:
            assert g["fields"] and g["label"]
            assert not set(g["fields"]) & set(explain.DEFAULT_PROTECTED)


def test_compare_groups_are_the_reasons_units(client, apps) -> None:
    """A reason /predict gives (all of them requested) is one /compare group, carrying the
    same contribution; engineered features appear only through their applicant fields."""
    matched = 0
    for a, b in zip(apps[:6], apps[6:12], strict=True):
        body = client.post("/compare", json={"a": a, "b": b}).json()
        group_of = {f: g for g in body["groups"] for f in g["fields"]}
        assert set(group_of) <= {f.name for f in schema.FIELDS}
        for x, side in ((a, "contribution_a"), (b, "contribution_b")):
            alone = client.post(f"/predict?reasons={MAX_REASONS}", json=x).json()
            for reason in alone["reasons"]:
                groups = {id(group_of[f]) for f in reason["fields"] if f in group_of}
                if not groups:
                    continue  # this unit's contribution is the same for a and b
                (group,) = [group_of[f] for f in reason["fields"][:1]]
                assert len(groups) == 1 and set(reason["fields"]) <= set(group["fields"])
                assert group[side] == pytest.approx(reason["contribution"], abs=1e-12)
                matched += 1
    assert matched >= 12


def test_protected_fields_change_nothing(client, apps) -> None:
    a = apps[0]
    b = {**a, "CODE_GENDER": "M" if a["CODE_GENDER"] != "M" else "F",
         "DAYS_BIRTH": a["DAYS_BIRTH"] - 3650,
         "NAME_FAMILY_STATUS": "Widow" if a["NAME_FAMILY_STATUS"] != "Widow" else "Married"}
    body = client.post("/compare", json={"a": a, "b": b}).json()
    assert sorted(d["field"] for d in body["differing_fields"]) == [
        "CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS"]
    assert body["groups"] == [] and body["margin_difference"] == 0.0


def test_compare_lists_exactly_the_differing_fields(client, apps) -> None:
    a = apps[0]
    b = {**a, "AMT_CREDIT": a["AMT_CREDIT"] + 1000.0, "CODE_GENDER":
         "M" if a["CODE_GENDER"] != "M" else "F", "EXT_SOURCE_1": None}
    body = client.post("/compare", json={"a": a, "b": b}).json()
    expected = [f.name for f in schema.FIELDS if a.get(f.name) != b.get(f.name)]
    assert [d["field"] for d in body["differing_fields"]] == expected
    same = client.post("/compare", json={"a": a, "b": a}).json()
    assert same["differing_fields"] == [] and same["groups"] == []
    assert same["margin_difference"] == 0.0 and same["probability_difference"] == 0.0


@pytest.mark.parametrize(("body", "status", "fields"), [
    ({"a": "APP", "b": {"CNT_CHILDREN": 2.5}}, 422, ["b.CNT_CHILDREN"]),
    ({"a": "APP"}, 422, ["b"]),
    ({"a": "APP", "b": "APP", "c": 1}, 422, ["c"]),
    ([], 422, ["body"]),
])
def test_compare_errors_name_the_field(client, apps, body, status, fields) -> None:
    def fill(value: Any) -> Any:
        if value == "APP":
            return apps[0]
        if isinstance(value, dict) and "CNT_CHILDREN" in value:
            return {**apps[1], **value}
        return value

    payload = {k: fill(v) for k, v in body.items()} if isinstance(body, dict) else body
    response = client.post("/compare", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["fields"] == fields


def test_compare_rejects_duplicate_keys_and_bad_json(client, apps) -> None:
    text = json.dumps({"a": apps[0], "b": apps[1]})
    doubled = text.replace('"b": {', '"b": {"CNT_CHILDREN": 1, ', 1)
    assert client.post("/compare", content=doubled).status_code == 400
    assert client.post("/compare", content=b"{").status_code == 400
