"""The synthetic generator's calibration file and its loader (training/synthetic_calibration.py)."""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from typing import Any

import numpy as np
import pytest

from contract import schema
from training import synthetic_calibration
from training.synthetic_calibration import Calibration, check, from_dict, load

BUILDING_STATS = tuple(
    f.name[: -len("_AVG")] for f in schema.FEATURE_FIELDS if f.name.endswith("_AVG")
)


def _raw() -> dict[str, Any]:
    text = resources.files("training").joinpath(synthetic_calibration.RESOURCE).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def test_the_packaged_file_loads_and_passes_the_schema_checks() -> None:
    cal = load()
    assert isinstance(cal, Calibration)
    assert load() is cal  # read once
    check(cal, BUILDING_STATS)
    assert from_dict(_raw()) == cal


def test_every_json_key_is_a_field_and_every_field_is_in_the_file() -> None:
    names = {f.name for f in dataclasses.fields(Calibration)}
    assert set(_raw()) == names | {"source"}


def test_number_keyed_tables_get_their_numbers_back() -> None:
    cal = load()
    assert all(type(k) is int for table in cal.count_tables.values() for k in table)
    assert all(type(k) is int for k in cal.documents_employed)
    assert 0 in cal.documents_sentinel
    assert all(type(k) is float for k in cal.markups)
    assert 1.0 in cal.markups
    assert set(cal.rating_w_city) == {1, 2, 3}
    for level, counts in cal.rating_w_city.items():
        assert max(counts) <= level  # the rating with the city is never above the region's


def test_lists_become_tuples() -> None:
    cal = load()
    assert isinstance(cal.knot_probs, tuple)
    assert isinstance(cal.core_correlation[0], tuple)
    assert isinstance(cal.quantiles["DAYS_BIRTH"], tuple)
    assert isinstance(cal.regions[0], tuple)


def test_quantile_tables_are_non_decreasing_over_increasing_knots() -> None:
    cal = load()
    knots = np.asarray(cal.knot_probs)
    assert knots[0] == 0.0 and knots[-1] == 1.0
    assert np.all(np.diff(knots) > 0)
    for name, values in cal.quantiles.items():
        assert len(values) == len(knots), name
        assert np.all(np.diff(values) >= 0), name


def test_rates_and_correlations_are_in_range() -> None:
    cal = load()
    rates = [
        cal.target_rate, cal.id_gap_share, cal.absent_share, cal.occupation_missing_employed,
        cal.def30_per_obs30, cal.def60_per_def30, cal.obs60_equals_obs30,
        *cal.sample_missing.values(), *cal.building_missing.values(),
        *cal.flag_rates_employed.values(), *cal.flag_rates_sentinel.values(),
        *cal.pensioner_share_female, *cal.pensioner_share_male,
        *cal.ext_source_1_missing_by_age, *cal.occupation_share_male.values(),
    ]
    assert all(0.0 <= r <= 1.0 for r in rates)
    correlations = [
        *(r for row in cal.core_correlation for r in row),
        *(r for row in cal.building_correlation for r in row),
        *(r for pair in cal.suffix_correlation.values() for r in pair),
        cal.walls_height_correlation, cal.building_missing_correlation,
    ]
    assert all(-1.0 <= r <= 1.0 for r in correlations)


def test_age_tables_have_one_column_per_band() -> None:
    cal = load()
    assert len(cal.pensioner_share_female) == len(cal.pension_age_edges) + 1
    assert len(cal.pensioner_share_male) == len(cal.pension_age_edges) + 1
    assert len(cal.ext_source_1_missing_by_age) == len(cal.ext_source_1_age_edges) + 1
    bands = len(cal.family_age_edges) + 1
    assert all(len(counts) == bands for counts in cal.family_by_age.values())
    bands = len(cal.child_age_edges) + 1
    for table in (cal.children_couple, cal.children_single):
        assert len(table) == bands
    assert all(len(counts) == bands for counts in cal.housing_by_age.values())


def test_address_patterns_have_one_bit_per_mismatch_flag() -> None:
    cal = load()
    flags = [f.name for f in schema.FEATURE_FIELDS if "_NOT_" in f.name]
    for patterns in (cal.address_patterns_employed, cal.address_patterns_sentinel):
        assert all(len(p) == len(flags) and set(p) <= {"0", "1"} for p in patterns)


def test_unknown_and_absent_keys_are_refused() -> None:
    data = _raw()
    with pytest.raises(ValueError, match=r"unknown \['extra'\]"):
        from_dict({**data, "extra": 1})
    del data["markups"]
    with pytest.raises(ValueError, match=r"absent \['markups'\]"):
        from_dict(data)


def test_a_category_outside_the_vocabulary_is_refused() -> None:
    data = _raw()
    data["category_counts"]["CODE_GENDER"]["Other"] = 3
    with pytest.raises(ValueError, match=r"\['Other'\] outside the CODE_GENDER vocabulary"):
        check(from_dict(data), BUILDING_STATS)


def test_a_risk_weight_for_an_unknown_category_is_refused() -> None:
    data = _raw()
    data["risk"]["category"]["OCCUPATION_TYPE"]["Astronaut"] = 1.0
    with pytest.raises(ValueError, match="Astronaut"):
        check(from_dict(data), BUILDING_STATS)


def test_a_malformed_correlation_triangle_is_refused() -> None:
    data = _raw()
    data["core_correlation"] = data["core_correlation"][:-1]
    with pytest.raises(ValueError, match="core_correlation must be the strict lower triangle"):
        check(from_dict(data), BUILDING_STATS)


def test_a_short_quantile_table_is_refused() -> None:
    data = _raw()
    data["quantiles"]["DAYS_BIRTH"] = data["quantiles"]["DAYS_BIRTH"][:-1]
    with pytest.raises(ValueError, match=r"quantiles of \['DAYS_BIRTH'\]"):
        check(from_dict(data), BUILDING_STATS)


def test_building_missing_must_cover_the_schema_statistics() -> None:
    data = _raw()
    del data["building_missing"]["APARTMENTS"]
    with pytest.raises(ValueError, match="building_missing must cover"):
        check(from_dict(data), BUILDING_STATS)
