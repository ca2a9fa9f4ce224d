"""POST /compare, GET /reference, integral floats in integer fields, and the page's routes
(GET /ui, /officer/<route>), through the FastAPI app with the synthetic test bundle
(fixtures in conftest.py)."""

from __future__ import annotations

import json
import math
import shutil
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from contract import schema
from contract.bundle import MIN_BIN_ROWS, REFERENCE_BINS_FILE
from contract.graph import MARGIN_OUTPUT
from scoring import reference as reference_mod
from scoring.api import create_app
from scoring.compare import CompareResponse
from scoring.config import Settings
from scoring.officer import AUTH_CLIENT_HEADER, AUTH_DOMAIN_HEADER, UI_DIR
from scoring.reference import ReferenceResponse
from scoring.request import encode

#: The page's budget: index.html + app.js + app.css, uncompressed.
PAGE_BUDGET_BYTES = 40_000


# ------------------------------------------------------------------------------- /compare
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
            assert [r["feature"] for r in got.pop("reasons")] == [
                r["feature"] for r in alone.pop("reasons")]
            assert got == alone
        assert body["probability_difference"] == pytest.approx(
            single_p(client, b) - single_p(client, a), abs=1e-12)
        for g in body["groups"]:
            assert g["delta"] == g["contribution_b"] - g["contribution_a"] or math.isclose(
                g["delta"], g["contribution_b"] - g["contribution_a"], abs_tol=1e-12)
        deltas = [abs(g["delta"]) for g in body["groups"]]
        assert deltas == sorted(deltas, reverse=True) and all(d > 0 for d in deltas)


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


# ----------------------------------------------------------------------------- /reference
def test_reference_is_aggregates_with_enough_rows_per_bin(client, trained_bundle) -> None:
    response = client.get("/reference")
    assert response.status_code == 200
    body = response.json()
    ReferenceResponse.model_validate(body)
    card = json.loads((trained_bundle / "model_card.json").read_text())
    assert set(body["features"]) == set(card["features"])
    assert schema.ID_FIELD not in body["features"]
    for name, entry in body["features"].items():
        groups = [*entry["bins"], *([entry["missing"]] if entry["missing"] else [])]
        assert all(g["rows"] >= MIN_BIN_ROWS and 0 <= g["default_rate"] <= 1 for g in groups)
        assert sum(g["rows"] for g in groups) + entry["suppressed_rows"] == body["rows"], name
        if entry["kind"] == "numeric" and entry["bins"]:
            assert entry["bins"][0]["low"] is None and entry["bins"][-1]["high"] is None
            edges = [b["low"] for b in entry["bins"][1:]]
            assert edges == sorted(edges) and len(set(edges)) == len(edges)


def test_reference_default_rates_are_the_rows_default_rates() -> None:
    import pandas as pd

    from training.reference_bins import numeric_bins, reference_bins

    values = np.arange(100, dtype=np.float64)
    target = (values >= 50).astype(np.float64)
    out = numeric_bins(values, target)
    # Deciles cut at 9.9, 19.8, ...: 10 rows each, merged in pairs to reach 20 rows.
    assert [(b["low"], b["high"], b["rows"]) for b in out["bins"]] == [
        (None, 19.8, 20), (19.8, 39.6, 20), (39.6, 59.4, 20), (59.4, 79.2, 20), (79.2, None, 20)]
    for b in out["bins"]:
        inside = (values >= (b["low"] if b["low"] is not None else -np.inf)) & (
            values < (b["high"] if b["high"] is not None else np.inf))
        assert b["rows"] == inside.sum() and b["default_rate"] == round(target[inside].mean(), 6)
    frame = pd.DataFrame({"NAME_CONTRACT_TYPE": ["Cash loans"] * 30 + ["Revolving loans"] * 5,
                          schema.TARGET_FIELD: [0] * 29 + [1] * 6})
    cats = reference_bins(frame, np.empty((35, 0)), ("NAME_CONTRACT_TYPE",))
    entry = cats["features"]["NAME_CONTRACT_TYPE"]
    assert entry["bins"] == [{"category": "Cash loans", "rows": 30, "default_rate": 0.033333}]
    assert entry["suppressed_rows"] == 5  # 5 rows are too few for a bin, even pooled


def test_reference_is_read_on_first_use_only(trained_bundle, tmp_path) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle, bundle)
    client = TestClient(create_app(Settings(model_dir=bundle)))
    assert client.get("/health").status_code == 200
    assert bundle not in reference_mod._cache
    assert client.get("/reference").status_code == 200
    assert bundle in reference_mod._cache


def test_bundle_without_reference_bins_still_scores(trained_bundle, tmp_path, apps) -> None:
    bundle = tmp_path / "model"
    shutil.copytree(trained_bundle, bundle)
    (bundle / REFERENCE_BINS_FILE).unlink()
    client = TestClient(create_app(Settings(model_dir=bundle)))
    assert client.post("/predict", json=apps[0]).status_code == 200
    response = client.get("/reference")
    assert response.status_code == 503
    assert REFERENCE_BINS_FILE in response.json()["detail"][0]["msg"]


def test_reference_bins_come_from_s3_on_first_use(trained_bundle, moto_s3, tmp_path) -> None:
    from contract.bundle import SERVING_FILES

    moto_s3.create_bucket(Bucket="models")
    for name in (*SERVING_FILES, REFERENCE_BINS_FILE):
        moto_s3.upload_file(str(trained_bundle / name), "models", f"v1/{name}")
    client = TestClient(create_app(Settings(model_s3_uri="s3://models/v1")))
    directory = client.app.state.service.bundle().directory
    assert not (directory / REFERENCE_BINS_FILE).exists()
    response = client.get("/reference")
    assert response.status_code == 200
    assert response.content == (trained_bundle / REFERENCE_BINS_FILE).read_bytes()


# ------------------------------------------------------------------------- integer fields
def test_integral_floats_are_integers(client, apps) -> None:
    app = apps[0]
    every_float = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                   for k, v in app.items()}
    assert any(isinstance(v, float) and v.is_integer() for v in every_float.values())
    as_floats = client.post("/predict", json=every_float)
    assert as_floats.status_code == 200, as_floats.text
    assert as_floats.json() == client.post("/predict", json=app).json()
    assert isinstance(as_floats.json()["client_id"], int)
    for bad in (2.5, "2", True, 101.0, -1.0):
        response = client.post("/predict", json={**app, "CNT_CHILDREN": bad})
        assert response.status_code == 422 and response.json()["fields"] == ["CNT_CHILDREN"]
    text = json.dumps(app).replace(f'"CNT_CHILDREN": {app["CNT_CHILDREN"]}',
                                   '"CNT_CHILDREN": NaN')
    assert client.post("/predict", content=text).json()["fields"] == ["CNT_CHILDREN"]


# ------------------------------------------------------------------------- page + routes
def test_page_is_small_self_contained_and_locked_down(client) -> None:
    weight = {name: len((UI_DIR / name).read_bytes()) for name in
              ("index.html", "app.js", "app.css")}
    print(f"\npage weight: {sum(weight.values())} bytes {weight}; examples.json "
          f"{len((UI_DIR / 'examples.json').read_bytes())} bytes")
    assert sum(weight.values()) <= PAGE_BUDGET_BYTES
    page = client.get("/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "<title>Credit decision explainer for loan officers</title>" in page.text
    for name in ("app.js", "app.css"):
        assert client.get(f"/ui/{name}").content == (UI_DIR / name).read_bytes()
    assert client.get("/ui/other.js").status_code == 404
    assert "access-control-allow-origin" not in page.headers


def test_page_gets_sign_in_settings_only_when_well_formed(client) -> None:
    good = {AUTH_DOMAIN_HEADER: "https://officers-1.auth.eu-west-1.amazoncognito.com",
            AUTH_CLIENT_HEADER: "abc123"}
    text = client.get("/ui", headers=good).text
    assert "officers-1.auth.eu-west-1.amazoncognito.com" in text and "abc123" in text
    evil = {AUTH_DOMAIN_HEADER: 'https://x.amazoncognito.com"><script>alert(1)</script>',
            AUTH_CLIENT_HEADER: "abc"}
    text = client.get("/ui", headers=evil).text
    assert "<script>alert" not in text and 'content="{}"' in text


def test_officer_prefix_serves_only_the_page_routes(client, apps) -> None:
    assert client.post("/officer/predict", json=apps[0]).json() == client.post(
        "/predict", json=apps[0]).json()
    assert client.post("/officer/compare", json={"a": apps[0], "b": apps[1]}).status_code == 200
    assert client.get("/officer/reference").status_code == 200
    assert client.get("/officer/model").status_code == 200
    examples = client.get("/officer/examples").json()["examples"]
    for example in examples:
        assert client.post("/predict", json=example["application"]).status_code == 200
    assert client.post("/officer/predict/batch", json={"applications": apps}).status_code == 404
    assert client.get("/officer/health").status_code == 404


def test_spec_types_integer_fields_with_json_schema_bounds(client) -> None:
    spec = client.get("/openapi.json").json()
    properties = spec["components"]["schemas"]["Application"]["properties"]
    for field in schema.FIELDS:
        if field.kind == "integer":
            prop = properties[field.name]
            typed = prop if "type" in prop else prop["anyOf"][0]
            assert typed["type"] == "integer", field.name
            assert typed["minimum"] == field.minimum and "ge" not in typed, field.name
    for name in ("CompareRequest", "CompareResponse", "ReferenceResponse"):
        assert name in spec["components"]["schemas"]
    assert {"/compare", "/reference"} <= set(spec["paths"])
    assert "/ui" not in spec["paths"]
