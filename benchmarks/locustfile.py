"""Locust users for benchmarks/load_test.py (run by it; not meant to be run alone).

Each user posts valid applications to /predict back to back (default: 4 reasons), and one
request in ``LOAD_TEST_BATCH_EVERY`` is a /predict/batch of ``LOAD_TEST_BATCH_SIZE``
applications. A response counts as a failure unless it is a 200 whose JSON holds the right
number of predictions with probabilities in [0, 1]. Exact response times (ms, float) are
written to ``LOAD_TEST_TIMINGS`` when the run stops (locust's own percentiles are rounded).

Environment (set by load_test.py): LOAD_TEST_PAYLOADS (a JSON file: a list of applications),
LOAD_TEST_TIMINGS (output path), LOAD_TEST_BATCH_EVERY, LOAD_TEST_BATCH_SIZE, LOAD_TEST_REASONS.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

PAYLOADS: list[dict[str, Any]] = json.loads(Path(os.environ["LOAD_TEST_PAYLOADS"]).read_text())
BODIES = [json.dumps(p) for p in PAYLOADS]
BATCH_EVERY = int(os.environ.get("LOAD_TEST_BATCH_EVERY", "20"))
BATCH_SIZE = int(os.environ.get("LOAD_TEST_BATCH_SIZE", "20"))
REASONS = os.environ.get("LOAD_TEST_REASONS", "4")
TIMINGS: dict[str, list[float]] = {"/predict": [], "/predict/batch": []}
HEADERS = {"content-type": "application/json"}


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any,
            **kwargs: Any) -> None:
    if exception is None and name in TIMINGS:
        TIMINGS[name].append(response_time)


@events.test_stop.add_listener
def _write_timings(**kwargs: Any) -> None:
    Path(os.environ["LOAD_TEST_TIMINGS"]).write_text(json.dumps(TIMINGS))


def _check(response: Any, expected: int) -> None:
    if response.status_code != 200:
        response.failure(f"status {response.status_code}: {response.text[:200]}")
        return
    body = response.json()
    predictions = body["predictions"] if expected > 1 else [body]
    if len(predictions) != expected or not all(
            0.0 <= p["probability_default"] <= 1.0 for p in predictions):
        response.failure("unexpected prediction body")


class Applicant(FastHttpUser):
    wait_time = constant(float(os.environ.get("LOAD_TEST_WAIT_S", "0")))

    def on_start(self) -> None:
        self.rng = random.Random(id(self))
        self.calls = 0

    @task
    def score(self) -> None:
        self.calls += 1
        if BATCH_EVERY and self.calls % BATCH_EVERY == 0:
            start = self.rng.randrange(len(BODIES))
            items = [BODIES[(start + i) % len(BODIES)] for i in range(BATCH_SIZE)]
            body = '{"applications": [' + ", ".join(items) + "]}"
            with self.client.post("/predict/batch", data=body, headers=HEADERS,
                                  name="/predict/batch", catch_response=True) as response:
                _check(response, BATCH_SIZE)
            return
        body = BODIES[self.rng.randrange(len(BODIES))]
        with self.client.post(f"/predict?reasons={REASONS}", data=body, headers=HEADERS,
                              name="/predict", catch_response=True) as response:
            _check(response, 1)
