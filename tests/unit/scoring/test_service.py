"""scoring.service: the one scoring path, the bundle's load-and-retry state, health and priming."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from infra.lambda_events import reference_applications
from scoring import service as service_mod
from scoring.config import Settings
from scoring.model import load_bundle
from scoring.service import Service, Unavailable, dump_json, score, where


@pytest.fixture(scope="module")
def bundle(trained_bundle: Path) -> Any:
    return load_bundle(trained_bundle)


@pytest.fixture(scope="module")
def apps(trained_bundle: Path) -> list[dict[str, Any]]:
    return reference_applications(trained_bundle, 20)


def test_score_follows_the_threshold_and_lists_k_reasons(bundle, apps) -> None:
    predictions = score(bundle, apps, 3)
    assert [p["client_id"] for p in predictions] == [a["SK_ID_CURR"] for a in apps]
    for p in predictions:
        assert 0 <= p["probability_default"] <= 1
        assert p["decision"] == ("decline" if p["probability_default"] >= 0.2 else "approve")
        assert p["threshold"] == 0.2 and p["model_version"] == "test"
        assert 1 <= len(p["reasons"]) <= 3
        sizes = [abs(r["contribution"]) for r in p["reasons"]]
        assert sizes == sorted(sizes, reverse=True)


def test_score_without_reasons_gives_the_same_probabilities(bundle, apps) -> None:
    with_reasons = score(bundle, apps, 4)
    without = score(bundle, apps, 0)
    assert all(p["reasons"] == [] for p in without)
    assert [p["probability_default"] for p in without] == [
        p["probability_default"] for p in with_reasons]


def test_one_application_scores_as_in_a_batch(bundle, apps) -> None:
    batch = score(bundle, apps, 2)[:5]
    singles = [score(bundle, [app], 2)[0] for app in apps[:5]]
    # One ulp may separate a row's probability alone and in a batch (onnxruntime's
    # vectorised sigmoid); the margin, the decision and the reasons are identical.
    assert [p.pop("probability_default") for p in singles] == pytest.approx(
        [p.pop("probability_default") for p in batch], rel=1e-14, abs=0)
    assert singles == batch


def test_dump_json_is_compact_and_rejects_nan() -> None:
    assert dump_json({"a": [1, 0.5], "b": None}) == b'{"a":[1,0.5],"b":null}'
    with pytest.raises(ValueError):
        dump_json({"p": math.nan})


def test_where_names_the_raising_line() -> None:
    try:
        raise RuntimeError("a value the log must not show")
    except RuntimeError as exc:
        located = where(exc)
    assert located.startswith("test_service.py:") and located.split(":")[1].isdigit()
    assert where(RuntimeError("never raised")) == "?"


def test_health_of_a_served_bundle(trained_bundle) -> None:
    status, body = Service(Settings(model_dir=trained_bundle)).health()
    assert status == 200
    assert body["status"] == "ok" and body["model_version"] == "test" and body["reason"] is None
    assert body["capture"]["enabled"] is False
    assert set(body["capture"]) == {"enabled", "buffered", "sent", "retried", "dropped",
                                    "failed", "firehose_records", "calls"}


def test_an_unloadable_bundle_is_unavailable_with_the_reason(tmp_path) -> None:
    service = Service(Settings(model_dir=tmp_path / "nowhere"))
    with pytest.raises(Unavailable, match="does not exist"):
        service.bundle()
    status, body = service.health()
    assert status == 503 and body["status"] == "unavailable"
    assert "does not exist" in (body["reason"] or "")


def test_a_failed_load_is_retried_only_after_the_retry_delay(trained_bundle, tmp_path,
                                                             monkeypatch) -> None:
    directory = tmp_path / "model"
    service = Service(Settings(model_dir=directory))
    with pytest.raises(Unavailable):
        service.bundle()
    directory.symlink_to(trained_bundle)  # repaired
    with pytest.raises(Unavailable):
        service.bundle()
    monkeypatch.setattr(service_mod, "RETRY_AFTER_S", 0.0)
    assert service.bundle().version == "test"


def test_a_configuration_error_makes_the_service_unavailable(trained_bundle) -> None:
    service = Service(Settings(model_dir=trained_bundle), config_error="MAX_BODY_BYTES is bad")
    with pytest.raises(Unavailable, match="invalid configuration: MAX_BODY_BYTES is bad"):
        service.bundle()


def test_prime_loads_the_bundle_and_logs_it(trained_bundle, capsys) -> None:
    from scoring import logs

    service = Service(Settings(model_dir=trained_bundle))
    logs.set_stream(None)
    service.prime()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"] for line in lines] == ["model_loaded"]
    assert lines[0]["model_version"] == "test"
    assert service.health()[0] == 200


def test_capture_is_on_only_with_a_stream_and_a_valid_configuration(trained_bundle) -> None:
    on = Settings(model_dir=trained_bundle, capture_stream="captures")
    assert Service(on).capture is not None
    assert Service(on, config_error="bad").capture is None
    assert Service(Settings(model_dir=trained_bundle)).capture is None
