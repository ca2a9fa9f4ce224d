"""The loan-officer page's routes (GET /ui, its static files, /officer/<route>) and the spec
of the new routes, through the FastAPI app with the synthetic test bundle (fixtures in
conftest.py)."""

from __future__ import annotations

from contract import schema
from scoring.officer import AUTH_CLIENT_HEADER, AUTH_DOMAIN_HEADER, UI_DIR

#: The page's budget: index.html + app.js + app.css, uncompressed.
PAGE_BUDGET_BYTES = 40_000


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
