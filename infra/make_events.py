"""(Re)generate the local-invocation events in infra/events/ so they stay in sync with the
input schema.

Each event is built by infra/lambda_events.py from the ``sam local generate-event``
templates (HTTP API v2 ``apigateway http-api-proxy``, REST v1 ``apigateway aws-proxy``,
``cloudwatch scheduled-event``) and then edited: explicit route, method, a plain-text JSON
body, the IAM caller instead of the test cookies/claims. The applications are synthetic,
built here from ``contract.schema`` (values inside its bounds, categories from its
vocabularies): never rows of the real samples.

    python -m infra.make_events [--out infra/events] [--refresh-templates [--sam PATH]]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from contract.schema import FEATURE_FIELDS, ID_FIELD, Field
from infra import lambda_events
from infra.lambda_events import ACCOUNT, REGION

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "infra" / "events"
API_ID = "abcdef1234"
#: A fixed schedule time (the window end the drift job derives from the event).
SCHEDULE_TIME = "2026-11-28T06:00:00Z"

# A plausible applicant; fields not listed take the rule in _default_value.
_BASE: dict[str, Any] = {
    "NAME_CONTRACT_TYPE": "Cash loans",
    "CODE_GENDER": "F",
    "FLAG_OWN_CAR": "N",
    "FLAG_OWN_REALTY": "Y",
    "CNT_CHILDREN": 1,
    "AMT_INCOME_TOTAL": 162000.0,
    "AMT_CREDIT": 512000.0,
    "AMT_ANNUITY": 24750.0,
    "AMT_GOODS_PRICE": 450000.0,
    "NAME_TYPE_SUITE": "Unaccompanied",
    "NAME_INCOME_TYPE": "Working",
    "NAME_EDUCATION_TYPE": "Secondary / secondary special",
    "NAME_FAMILY_STATUS": "Married",
    "NAME_HOUSING_TYPE": "House / apartment",
    "REGION_POPULATION_RELATIVE": 0.0188,
    "DAYS_BIRTH": -14230,
    "DAYS_EMPLOYED": -2150,
    "DAYS_REGISTRATION": -4120.0,
    "DAYS_ID_PUBLISH": -3010,
    "OWN_CAR_AGE": None,
    "FLAG_MOBIL": 1,
    "FLAG_EMP_PHONE": 1,
    "FLAG_CONT_MOBILE": 1,
    "OCCUPATION_TYPE": "Sales staff",
    "CNT_FAM_MEMBERS": 3.0,
    "REGION_RATING_CLIENT": 2,
    "REGION_RATING_CLIENT_W_CITY": 2,
    "WEEKDAY_APPR_PROCESS_START": "TUESDAY",
    "HOUR_APPR_PROCESS_START": 11,
    "ORGANIZATION_TYPE": "Business Entity Type 3",
    "EXT_SOURCE_1": None,
    "EXT_SOURCE_2": 0.58,
    "EXT_SOURCE_3": 0.47,
    "FONDKAPREMONT_MODE": "reg oper account",
    "HOUSETYPE_MODE": "block of flats",
    "TOTALAREA_MODE": 0.071,
    "WALLSMATERIAL_MODE": "Panel",
    "EMERGENCYSTATE_MODE": "No",
    "OBS_30_CNT_SOCIAL_CIRCLE": 1.0,
    "DEF_30_CNT_SOCIAL_CIRCLE": 0.0,
    "OBS_60_CNT_SOCIAL_CIRCLE": 1.0,
    "DEF_60_CNT_SOCIAL_CIRCLE": 0.0,
    "DAYS_LAST_PHONE_CHANGE": -820.0,
    "FLAG_DOCUMENT_3": 1,
    "AMT_REQ_CREDIT_BUREAU_YEAR": 1.0,
}

# Batch variants: a riskier and a safer profile next to the base one.
_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {
        "CODE_GENDER": "M",
        "CNT_CHILDREN": 0,
        "AMT_INCOME_TOTAL": 90000.0,
        "AMT_CREDIT": 1050000.0,
        "AMT_ANNUITY": 42000.0,
        "AMT_GOODS_PRICE": 900000.0,
        "NAME_FAMILY_STATUS": "Single / not married",
        "NAME_HOUSING_TYPE": "Rented apartment",
        "DAYS_BIRTH": -8900,
        "DAYS_EMPLOYED": -310,
        "OCCUPATION_TYPE": "Laborers",
        "CNT_FAM_MEMBERS": 1.0,
        "REGION_RATING_CLIENT": 3,
        "REGION_RATING_CLIENT_W_CITY": 3,
        "EXT_SOURCE_2": 0.12,
        "EXT_SOURCE_3": 0.09,
        "DEF_30_CNT_SOCIAL_CIRCLE": 1.0,
        "DEF_60_CNT_SOCIAL_CIRCLE": 1.0,
    },
    {
        "NAME_CONTRACT_TYPE": "Revolving loans",
        "FLAG_OWN_CAR": "Y",
        "OWN_CAR_AGE": 6.0,
        "AMT_INCOME_TOTAL": 270000.0,
        "AMT_CREDIT": 270000.0,
        "AMT_ANNUITY": 13500.0,
        "AMT_GOODS_PRICE": 270000.0,
        "NAME_INCOME_TYPE": "Pensioner",
        "NAME_EDUCATION_TYPE": "Higher education",
        "DAYS_BIRTH": -23100,
        "DAYS_EMPLOYED": 365243,
        "FLAG_EMP_PHONE": 0,
        "OCCUPATION_TYPE": None,
        "ORGANIZATION_TYPE": "XNA",
        "EXT_SOURCE_1": 0.74,
        "EXT_SOURCE_2": 0.71,
        "EXT_SOURCE_3": 0.69,
    },
)


def _default_value(field: Field) -> Any:
    """The value of a field that _BASE does not list: null where allowed, else a bound."""
    if field.nullable:
        return None
    if field.kind == "category":
        return field.categories[0]
    low = 0 if field.minimum is None else field.minimum
    return int(low) if field.kind == "integer" else float(low)


def synthetic_application(variant: int = 0) -> dict[str, Any]:
    """A valid application (SK_ID_CURR + the 120 fields, in schema order)."""
    values = {**_BASE, **_VARIANTS[variant]}
    app: dict[str, Any] = {ID_FIELD: 900_001 + variant}
    for field in FEATURE_FIELDS:
        app[field.name] = values[field.name] if field.name in values else _default_value(field)
    return app


def invalid_application() -> dict[str, Any]:
    """An application with a string in a number field and an unknown category."""
    return {**synthetic_application(), "AMT_CREDIT": "512000 EUR", "NAME_CONTRACT_TYPE": "Mortgage"}


def batch_body() -> dict[str, Any]:
    return {"applications": [synthetic_application(i) for i in range(len(_VARIANTS))]}


# --------------------------------------------------------------------------- events
def _http_api(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event for one of the template's explicit routes, called by
    an IAM-authenticated front end (the template's AWS_IAM authorizer)."""
    request_id = f"{method.lower()}-{path.strip('/').replace('/', '-')}-example"
    event = lambda_events.http_api_event(method, path, body, request_id=request_id,
                                         route_key=f"{method} {path}")
    for key in ("cookies", "pathParameters", "stageVariables"):
        event.pop(key, None)
    host = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
    event["headers"] = {
        "accept": "application/json",
        "content-type": "application/json",
        "host": host,
        "user-agent": "credit-origination/1.0",
    }
    context = event["requestContext"]
    context.pop("authentication", None)  # no mutual TLS
    context["authorizer"] = {
        "iam": {
            "accessKey": "ASIAEXAMPLEKEY",
            "accountId": ACCOUNT,
            "callerId": "AROAEXAMPLEID:origination",
            "principalOrgId": None,
            "userArn": f"arn:aws:sts::{ACCOUNT}:assumed-role/origination/origination",
            "userId": "AROAEXAMPLEID:origination",
        }
    }
    context["accountId"] = ACCOUNT
    context["apiId"] = API_ID
    context["domainName"] = host
    context["domainPrefix"] = API_ID
    return event


def _rest_api(method: str, path: str, body: Any, query: dict[str, str]) -> dict[str, Any]:
    """A REST API (payload 1.0, aws-proxy) event for the explicit ``path`` resource."""
    event = lambda_events.rest_api_event(
        method, path, body, query=query, headers={"Accept": "application/json"},
        request_id=f"rest-{path.strip('/').replace('/', '-')}-example", resource=path)
    event["stageVariables"] = None
    return event


def build_events() -> dict[str, dict[str, Any]]:
    """File name -> event."""
    return {
        "health.json": _http_api("GET", "/health"),
        "model.json": _http_api("GET", "/model"),
        "predict_valid.json": _http_api("POST", "/predict", synthetic_application()),
        "predict_valid_rest.json": _rest_api(
            "POST", "/predict", synthetic_application(), {"reasons": "3"}
        ),
        "predict_invalid.json": _http_api("POST", "/predict", invalid_application()),
        "predict_batch.json": _http_api("POST", "/predict/batch", batch_body()),
        "drift_schedule.json": lambda_events.scheduled_event(
            SCHEDULE_TIME, rule="credit-scoring-DriftFunctionSchedule", region=REGION),
    }


# --------------------------------------------------------------------------- templates
def default_sam() -> str | None:
    local = REPO_ROOT / ".venv-tools" / "bin" / "sam"
    return str(local) if local.exists() else shutil.which("sam")


def refresh_templates(sam: str) -> list[Path]:
    """Rewrite infra/event_templates/ from ``sam local generate-event`` (default options)."""
    written = []
    for name, args in lambda_events.TEMPLATES.items():
        out = subprocess.run([sam, "local", "generate-event", *args], check=True,
                             capture_output=True, text=True)  # nosec B603
        path = lambda_events.TEMPLATES_DIR / name
        path.write_text(out.stdout, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=EVENTS_DIR)
    parser.add_argument("--refresh-templates", action="store_true",
                        help="first rewrite infra/event_templates/ with sam (needs `make tools`)")
    parser.add_argument("--sam", default=default_sam(), help="the sam executable")
    args = parser.parse_args(argv)
    if args.refresh_templates:
        if not args.sam:
            parser.error("sam not found: run `make tools` or pass --sam")
        for path in refresh_templates(args.sam):
            print(path)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, event in build_events().items():
        (args.out / name).write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
