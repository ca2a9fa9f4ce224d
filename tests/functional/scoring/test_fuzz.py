"""Schemathesis fuzzing of the scoring API in-process (ASGI), from the app's own OpenAPI spec.

Every documented operation (POST /predict, POST /predict/batch, POST /compare, GET /reference,
GET /health, GET /model) is
driven through schemathesis's phases: its coverage phase (boundary values, missing and extra
fields, wrong types, nulls, undocumented methods, ...; valid and invalid) and Hypothesis
fuzzing in both generation modes (valid and invalid requests). Every response must pass:

* ``not_a_server_error``: no 5xx, ever (the bundle loads, so a 503 fails too);
* ``status_code_conformance``: the status is documented for the operation;
* ``content_type_conformance``: the content type is the documented one;
* ``response_schema_conformance``: the body matches the documented response schema;
* ``negative_data_rejection``: a request that violates the spec gets a 4xx;
* ``positive_data_acceptance``: a request that conforms to the spec is accepted;
* ``unsupported_method``: an undocumented method gets 405 with an ``Allow`` header.

Integer fields: JSON Schema's ``"type": "integer"`` also accepts an integral float such as
``2398.0``, and schemathesis generates such values in "valid" requests; the API accepts them
(scoring/request.py), so the plain acceptance check applies, and a non-integral number in an
integer field is a negative case that must get a 4xx.

Reproducible: a fixed seed (schemathesis's config seed, per operation) with
``derandomize=True`` and no example database: the same cases on every run. Each executed
case is counted; ``test_fuzzed_case_count`` (after the fuzz tests, in file order) prints the
counts and asserts at least MIN_CASES.

The requests go through the app's ASGI transport (schemathesis's in-process client): the same
FastAPI app the Mangum handler wraps; test_handler.py and test_bad_input.py drive
the handler itself. Takes about 2 minutes on 2 cores.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from scoring.api import create_app
from scoring.config import Settings

#: The bar: cases executed across all operations.
MIN_CASES = 2_000
#: Hypothesis fuzzing examples per operation (the coverage phase adds its own ~1,400 cases
#: per POST operation; operations without inputs exhaust their few distinct cases at once).
MAX_EXAMPLES = 250
#: Fixed seed for every operation's test (with derandomize: the same cases on every run).
SEED = 20_261_128
OPERATIONS = {"POST /predict", "POST /predict/batch", "POST /compare", "GET /reference",
              "GET /health", "GET /model"}

#: Cases executed, by (operation, phase, generation mode).
EXECUTED: Counter[tuple[str, str, str]] = Counter()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    unsupported_method,
]

#: The spec, loaded at collection from an app whose bundle is never loaded (the spec does not
#: depend on the bundle: test_spec_is_the_served_spec checks it). Cases are sent to
#: ``scoring_app``, the same app with a real bundle. (schemathesis.pytest.from_fixture would
#: need only one app, but its lazy loader fails under pytest 9: it sets Node._nodeid.)
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(Settings(model_dir=Path("/nonexistent/spec-only")))
)
schema.config.seed = SEED


def test_spec_is_the_served_spec(scoring_app, client) -> None:
    assert client.get("/health").status_code == 200  # the fuzzed app has its bundle
    assert scoring_app.openapi() == schema.raw_schema
    assert {result.ok().label for result in schema.get_all_operations()} == OPERATIONS


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(case: schemathesis.Case, scoring_app) -> None:
    meta = case.meta
    EXECUTED[(case.operation.label, meta.phase.name.value if meta else "?",
              meta.generation.mode.value if meta else "?")] += 1
    case.call_and_validate(checks=CHECKS, app=scoring_app)


def test_fuzzed_case_count() -> None:
    """Runs after the fuzz tests (file order): at least MIN_CASES across every operation."""
    if not EXECUTED:
        pytest.skip("the fuzz tests were deselected: run the whole module to count cases")
    total = sum(EXECUTED.values())
    by_operation: Counter[str] = Counter()
    for (label, _, _), n in EXECUTED.items():
        by_operation[label] += n
    print(f"\nschemathesis: {total} cases executed, 0 failures; by operation: "
          + ", ".join(f"{label} {n}" for label, n in sorted(by_operation.items())))
    for (label, phase, mode), n in sorted(EXECUTED.items()):
        print(f"  {label:<20} {phase:<9} {mode:<8} {n}")
    assert set(by_operation) == OPERATIONS, by_operation
    assert total >= MIN_CASES, by_operation
