"""Request and response models, generated once at import from contract.schema, and the
body parser that turns raw bytes into validated applications.

Validation policy (one schema for training, serving and the docs):

* ``integer`` fields take integral JSON numbers, as JSON Schema's ``integer`` does: ``3`` and
  ``3.0`` (what a pandas or JavaScript client sends) are both 3; ``3.5``, ``"3"``, ``true`` and
  NaN are rejected. ``number`` fields take any finite JSON number; both within the schema's
  inclusive bounds.
* ``category`` fields take one of the schema's strings exactly. An unseen category is
  rejected with 422 naming the field and listing the allowed values: the vocabularies are
  those of the full data set, so an unseen value is a client error, never something to guess.
* Nullable fields may be null or omitted (= missing); the others are required.
* NaN, Infinity and numbers that overflow a double (``1e400``) are rejected, as are unknown
  fields, duplicate keys, bodies that are not UTF-8 JSON objects, and oversized bodies.

Every rejection is a :class:`RequestError`: a 4xx status and a JSON body
``{"detail": [{"loc", "field", "msg", "type", ("allowed")}], "fields": [...]}``.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    create_model,
)

from contract import schema
from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT
from scoring.config import MAX_BATCH_SIZE

#: Errors listed in one response at most (a bad batch could otherwise list 100,000).
MAX_LISTED_ERRORS = 50
#: Longest unknown key echoed in an error (and so in the log line): a client-chosen key can be
#: megabytes long, and an error names it four times (loc, field, msg, fields).
MAX_ECHOED_KEY = 64


# --------------------------------------------------------------------------- request models
def _integral(value: Any) -> Any:
    """An integral float (``2.0``) becomes the int 2; anything else is left for StrictInt
    to accept (an int) or reject (``2.5``, NaN, strings, booleans)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _field_type(field: schema.Field) -> Any:
    """The Pydantic type of a field; a bound of None is no constraint."""
    if field.kind == "category":
        return Literal[field.categories]
    if field.kind == "integer":
        return Annotated[StrictInt, Field(ge=field.minimum, le=field.maximum),
                         BeforeValidator(_integral)]
    return Annotated[StrictFloat, Field(allow_inf_nan=False, ge=field.minimum, le=field.maximum)]


def _application_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field in schema.FIELDS:
        annotation = _field_type(field)
        if field.nullable:
            fields[field.name] = (annotation | None, None)
        else:
            fields[field.name] = (annotation, ...)
    return create_model(
        "Application",
        __config__=ConfigDict(extra="forbid", title="Application"),
        __doc__=(
            "One loan application: SK_ID_CURR and the 120 applicant fields of the Home Credit "
            "schema. Nullable fields may be null or omitted (missing); the others are required."
        ),
        **fields,
    )


Application = _application_model()


class BatchRequest(BaseModel):
    """Up to 1,000 applications, scored in order."""

    model_config = ConfigDict(extra="forbid")
    applications: list[Application] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=MAX_BATCH_SIZE
    )


# -------------------------------------------------------------------------- response models
# Responses are serialised by json.dumps; these models document them (OpenAPI) and let tests
# validate real responses. defer_build: their validators are built on first use, not at
# cold start.
_RESPONSE_CONFIG = ConfigDict(defer_build=True)


class Reason(BaseModel):
    model_config = _RESPONSE_CONFIG
    fields: list[str] = Field(
        description="The applicant fields this reason comes from (request field names). "
        "Contributions of engineered features (ratios, the external-score mean/min/max) are "
        "split back onto the fields they are computed from; fields of one recognisable group "
        "(documents, home building, credit bureau enquiries, ...) form one reason. Never a "
        "protected attribute (the model card's protected_attributes)."
    )
    values: dict[str, float | int | str | None] = Field(
        description="The request's value of each of those fields (null when missing)."
    )
    contribution: float = Field(
        description="Exact TreeSHAP contribution of these fields in log-odds of default."
    )
    direction: Literal["increases_risk", "decreases_risk"]
    statement: str = Field(
        description="Plain-language reason built from the field's label, its value (high or "
        "low against the training median) and the direction, e.g. 'Score from external "
        "credit bureau 3 is low (0.27), which raises the risk' or 'No score from external "
        "credit bureau 1 on file, which raises the risk'."
    )


class Prediction(BaseModel):
    model_config = _RESPONSE_CONFIG
    client_id: int = Field(description="SK_ID_CURR of the application.")
    probability_default: float = Field(
        ge=0, le=1,
        description="Estimated probability of default (calibrated on training data): Platt "
        "scaling, sigmoid(a * log-odds + b), fitted on the champion's out-of-fold "
        "predictions and folded into the model, so it can be read, averaged and multiplied "
        "(e.g. expected loss = PD x LGD x EAD) as a probability. GET /model gives the map "
        "(`calibration`: method, a, b) and its checks (ECE, Brier, reliability table).")
    decision: Literal["approve", "decline"] = Field(
        description="decline iff probability_default >= threshold."
    )
    threshold: float = Field(
        description="The decision threshold, as a calibrated probability of default: the "
        "one that minimises c_fn*FN + c_fp*FP on out-of-fold predictions.")
    model_version: str
    reasons: list[Reason] = Field(
        description="For a decline: only the factors that raised the risk, largest first "
        "(the principal reasons for the adverse action). For an approval: the factors that "
        "lowered the risk most. Never a protected attribute; for an applicant aged 62 or "
        "over, never a risk-raising factor derived from age. At most `reasons` entries; "
        "fewer when fewer qualify."
    )
    base_log_odds: float | None = Field(
        description="The model's expected (calibrated) log-odds (TreeSHAP base value); null "
        "without reasons.")
    other_log_odds: float | None = Field(
        description="Sum of every contribution not listed in `reasons`: base_log_odds + "
        "the listed contributions + other_log_odds = the model's log-odds of default. Null "
        "without reasons.")


class BatchResponse(BaseModel):
    model_config = _RESPONSE_CONFIG
    predictions: list[Prediction]


class CaptureStats(BaseModel):
    model_config = _RESPONSE_CONFIG
    enabled: bool
    buffered: int
    sent: int
    retried: int
    dropped: int
    failed: int
    firehose_records: int
    calls: int


class Health(BaseModel):
    model_config = _RESPONSE_CONFIG
    status: Literal["ok", "unavailable"]
    model_version: str | None = None
    reason: str | None = None
    capture: CaptureStats


class ModelCard(BaseModel):
    """The bundle's model_card.json (only the main keys are described here)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    model_version: str | int
    threshold: float
    costs: dict[str, float]
    metrics: dict[str, Any]
    features: list[str]
    schema_: list[dict[str, Any]] = Field(alias="schema")


class ErrorItem(BaseModel):
    model_config = _RESPONSE_CONFIG
    loc: list[str | int]
    field: str = Field(description="The offending field (dotted path), or 'body'/'query'.")
    msg: str
    type: str
    allowed: list[str] | None = Field(
        default=None, description="The allowed values of a categorical field."
    )


class ErrorResponse(BaseModel):
    model_config = _RESPONSE_CONFIG
    detail: list[ErrorItem]
    fields: list[str] = Field(description="The offending fields, in order, without repeats.")


RESPONSE_MODELS: tuple[type[BaseModel], ...] = (
    Prediction, BatchResponse, Health, ModelCard, ErrorResponse)


def openapi_schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """JSON schemas of the request bodies and of every response, for the OpenAPI spec."""
    from pydantic.json_schema import models_json_schema

    _, top = models_json_schema(
        [(Application, "validation"), (BatchRequest, "validation"),
         *((model, "serialization") for model in RESPONSE_MODELS)],
        ref_template=ref_template,
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


# ------------------------------------------------------------------------------- parsing
class RequestError(Exception):
    """A client error: HTTP ``status`` and the ErrorResponse body."""

    def __init__(self, status: int, detail: list[dict[str, Any]]) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(item["field"] for item in self.detail))

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail, "fields": self.fields}


def error_item(
    loc: tuple[str | int, ...] | list[str | int], msg: str, type_: str, field: str | None = None
) -> dict[str, Any]:
    return {"loc": list(loc), "field": field or loc_to_field(loc), "msg": msg, "type": type_}


def loc_to_field(loc: tuple[str | int, ...] | list[str | int]) -> str:
    """("applications", 3, "AMT_CREDIT") -> "applications[3].AMT_CREDIT"; () -> "body"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _clip(part: str | int) -> str | int:
    if isinstance(part, str) and len(part) > MAX_ECHOED_KEY:
        return part[:MAX_ECHOED_KEY] + "..."
    return part


def _validation_detail(exc: ValidationError) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    detail = []
    for err in errors[:MAX_LISTED_ERRORS]:
        loc = tuple(_clip(part) for part in err["loc"])
        item = error_item(loc, err["msg"], err["type"])
        name = loc[-1] if loc else None
        field = schema.FIELDS_BY_NAME.get(name) if isinstance(name, str) else None
        if err["type"] == "literal_error" and field is not None and field.kind == "category":
            item["msg"] = f"unknown category for {field.name}; allowed: {list(field.categories)}"
            item["type"] = "unknown_category"
            item["allowed"] = list(field.categories)
        elif err["type"] == "extra_forbidden":
            item["msg"] = f"unknown field {name!r}"
        detail.append(item)
    if len(errors) > MAX_LISTED_ERRORS:
        detail.append(error_item((), f"{len(errors) - MAX_LISTED_ERRORS} more errors not "
                                 "listed", "too_many_errors"))
    return detail


def _malformed(body: bytes) -> RequestError:
    """Explain why ``body`` is not a JSON document (called only on the error path)."""
    if not body.strip():
        return RequestError(400, [error_item((), "empty body: expected a JSON object",
                                             "empty_body")])
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RequestError(400, [error_item((), f"body is not valid UTF-8 (byte {exc.start})",
                                             "invalid_utf8")])
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return RequestError(400, [error_item(
            (), f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            "json_invalid")])
    except (ValueError, RecursionError) as exc:  # int over 4300 digits, nesting too deep
        return RequestError(400, [error_item((), f"malformed JSON: {exc}", "json_invalid")])
    return RequestError(400, [error_item((), "malformed JSON", "json_invalid")])


def _duplicate_keys(body: bytes) -> list[str]:
    """Every key that appears twice in one object of ``body`` (a valid JSON text)."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    found.append(key)
                seen.add(key)
        return obj

    json.loads(body.decode("utf-8"), object_pairs_hook=hook)
    return found


#: Colons inside category values (e.g. "Industry: type 1"), per field: in-string colons.
_CATEGORY_COLONS: dict[str, dict[str, int]] = {
    f.name: {c: c.count(":") for c in f.categories if ":" in c}
    for f in schema.FIELDS if f.kind == "category" and any(":" in c for c in f.categories)
}


def _value_colons(apps: list[dict[str, Any]]) -> int:
    return sum(colons.get(app[name], 0)
               for name, colons in _CATEGORY_COLONS.items() for app in apps)


def _check_duplicates(body: bytes, distinct_keys: int, apps: list[dict[str, Any]],
                      batch: bool) -> None:
    """Reject duplicate keys; ``distinct_keys`` = keys of all objects once validated.

    Fast path, for a body already parsed as valid JSON: every key token is followed by
    exactly one structural colon and other colons can only sit inside strings. Without
    backslashes, the validated category strings appear verbatim in the body, so
    ``count(":") >= key tokens + colons of those strings >= distinct keys + the same``;
    equality proves there is no duplicate key. Otherwise (a string with other colons, or
    escapes) the body is re-parsed exactly.
    """
    if b"\\" not in body and body.count(b":") == distinct_keys + _value_colons(apps):
        return
    duplicates = _duplicate_keys(body)
    if duplicates:
        raise RequestError(400, [
            error_item((key,), f"duplicate key {key!r}"
                       + (" in an application" if batch else ""), "duplicate_key")
            for key in duplicates[:MAX_LISTED_ERRORS]
        ])


def _validate(model_class: Any, body: bytes) -> Any:
    """model_class.model_validate_json(body), with errors turned into RequestError (400/422)."""
    try:
        return model_class.model_validate_json(body)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise _malformed(body) from None
        raise RequestError(422, _validation_detail(exc)) from None


def parse_application(body: bytes) -> dict[str, Any]:
    """Validate one application; returns its fields (all 121 keys, None = missing)."""
    model = _validate(Application, body)
    fields: dict[str, Any] = model.__dict__
    _check_duplicates(body, len(model.model_fields_set), [fields], batch=False)
    return fields


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    """Validate a batch request; returns its applications' fields, in order."""
    model = _validate(BatchRequest, body)
    apps = [a.__dict__ for a in model.applications]
    distinct = 1 + sum(len(a.model_fields_set) for a in model.applications)
    _check_duplicates(body, distinct, apps, batch=True)
    return apps


# ------------------------------------------------------------------------------- encoding
_numeric_of = itemgetter(*schema.NUMERIC_FIELDS)
_categorical_of = itemgetter(*schema.CATEGORICAL_FIELDS)


def encode(apps: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The model graph's inputs for validated applications.

    Same result as ``schema.encode_records`` (a test checks it on the real samples), in one
    C-level pass per matrix: the validated dicts always hold every field, numbers are
    already floats/ints, and None becomes NaN in a float64 array.
    """
    numeric = np.array([_numeric_of(a) for a in apps], dtype=np.float64)
    categorical = np.array([_categorical_of(a) for a in apps], dtype=object)
    # numpy's stubs reject None as an operand; an object array compares element-wise to it.
    categorical[np.equal(categorical, None)] = schema.MISSING_CATEGORY  # type: ignore[call-overload]
    return {NUMERIC_INPUT: numeric, CATEGORICAL_INPUT: categorical}
