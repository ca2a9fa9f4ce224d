"""The synthetic generator's calibration: the numbers ``training.synthetic`` draws from.

They live in ``training/data/synthetic_calibration.json`` (shipped with the package) and are
read once, with :func:`load`, into a frozen :class:`Calibration`. Where they come from and
how the risk weights were chosen is written down in docs/decisions.md ("Training").
JSON keys are always strings: tables keyed by numbers are converted back here, and every
list becomes a tuple, so the values the generator sees are exactly the ones written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from typing import Any

from contract import schema

#: The data file inside the ``training`` package.
RESOURCE = "data/synthetic_calibration.json"

@dataclass(frozen=True)
class Risk:
    """The logistic risk model TARGET is drawn from (log-odds contributions)."""

    #: Weight of each latent copula dimension (normal scores; higher DAYS_* = more recent).
    latent: dict[str, float]
    #: Weight of the latent DAYS_EMPLOYED of employed applicants (shorter -> riskier).
    employment: float
    #: Per step of REGION_RATING_CLIENT_W_CITY above 2.
    region_rating: float
    #: Per defaulted acquaintance (DEF_30_CNT_SOCIAL_CIRCLE), counted up to ``def_30_cap``.
    def_30: float
    def_30_cap: int
    #: Added when the field is missing.
    missing: dict[str, float]
    #: field -> category -> weight.
    category: dict[str, dict[str, float]]


@dataclass(frozen=True)
class Calibration:
    """Every number of the synthetic generator (see the JSON file for the values)."""

    #: Expected share of positives; the risk model's intercept is solved for it.
    target_rate: float
    #: Rows of the real application_train.csv (default size of a full synthetic set).
    full_rows: int
    first_id: int
    #: Share of ids skipped between consecutive rows.
    id_gap_share: float
    #: Share given to a vocabulary value the sample never shows.
    absent_share: float
    #: Missing counts (out of ``full_rows``) of fields the sample shows no missing value for.
    full_data_missing_counts: dict[str, int]
    #: Rows of the full data with FLAG_MOBIL = 0.
    full_data_flag_mobil_zero_count: int

    #: Probabilities at which ``quantiles`` are tabulated.
    knot_probs: tuple[float, ...]
    #: Marginal quantiles at ``knot_probs``. Besides real columns: AMT_GOODS_PRICE and
    #: ANNUITY_RATE (AMT_ANNUITY / AMT_CREDIT) are of cash loans, REVOLVING_CREDIT is
    #: AMT_CREDIT of revolving ones, DAYS_EMPLOYED excludes the sentinel, ID_DELAY_* are the
    #: delays described at ``id_milestones_years``. EXT_SOURCE_1 is inverse-probability
    #: weighted by its missing rate per age band, so the observed values match the sample's.
    quantiles: dict[str, tuple[float, ...]]
    #: Missing rates of the sample.
    sample_missing: dict[str, float]
    #: Missing rate per building statistic (its *_AVG, *_MODE and *_MEDI go missing together).
    building_missing: dict[str, float]
    #: Category counts (missing values not counted).
    category_counts: dict[str, dict[str, int]]
    #: (REGION_POPULATION_RELATIVE, rows, REGION_RATING_CLIENT) per region, from the worst
    #: rating to the best, then by population: the REGION latent's order.
    regions: tuple[tuple[float, int, int], ...]

    #: Share of pensioners per age band (years; band edges), for women and for men.
    pension_age_edges: tuple[float, ...]
    pensioner_share_female: tuple[float, ...]
    pensioner_share_male: tuple[float, ...]
    #: EXT_SOURCE_1 missing rate per age band.
    ext_source_1_age_edges: tuple[float, ...]
    ext_source_1_missing_by_age: tuple[float, ...]
    #: NAME_FAMILY_STATUS counts per age band.
    family_age_edges: tuple[float, ...]
    family_by_age: dict[str, tuple[int, ...]]
    #: CNT_CHILDREN counts (0, 1, 2, 3, 4+) per age band for couples and for the others,
    #: how 4+ splits, and NAME_HOUSING_TYPE counts per the same bands.
    child_age_edges: tuple[float, ...]
    children_couple: tuple[tuple[int, ...], ...]
    children_single: tuple[tuple[int, ...], ...]
    children_4plus: dict[int, int]
    housing_by_age: dict[str, tuple[int, ...]]

    #: Joint patterns of the six address-mismatch flags (schema order), for the employed and
    #: for the sentinel group (pensioners, unemployed).
    address_patterns_employed: dict[str, int]
    address_patterns_sentinel: dict[str, int]
    #: Contact flag rates, same two groups.
    flag_rates_employed: dict[str, float]
    flag_rates_sentinel: dict[str, float]
    #: Which FLAG_DOCUMENT_<k> is set (0: none), same two groups; one document per row.
    documents_employed: dict[int, int]
    documents_sentinel: dict[int, int]
    #: Value counts of count-like fields.
    count_tables: dict[str, dict[int, int]]
    #: AMT_CREDIT / AMT_GOODS_PRICE of cash loans (the frequent values) and their counts.
    markups: dict[float, int]
    #: Share of men per occupation (occupations are drawn given the gender).
    occupation_share_male: dict[str, float]
    #: OCCUPATION_TYPE missing rate among the employed.
    occupation_missing_employed: float
    #: Social circle: DEF_30 ~ Binomial(OBS_30, p), DEF_60 ~ Binomial(DEF_30, p'), and the
    #: share of rows with OBS_60 == OBS_30.
    def30_per_obs30: float
    def60_per_def30: float
    obs60_equals_obs30: float

    #: Latent (normal-score) dimensions of the applicant copula, and their correlations
    #: (strict lower triangle; flag correlations corrected to latent ones).
    core_dimensions: tuple[str, ...]
    core_correlation: tuple[tuple[float, ...], ...]
    #: Correlations of the building statistics (normal scores of *_AVG, then TOTALAREA_MODE).
    building_correlation: tuple[tuple[float, ...], ...]
    #: Normal-score correlation of each *_AVG with its *_MODE and *_MEDI twin.
    suffix_correlation: dict[str, tuple[float, float]]
    #: REGION_RATING_CLIENT_W_CITY counts given REGION_RATING_CLIENT (never above it).
    rating_w_city: dict[int, dict[int, int]]
    #: WALLSMATERIAL_MODE ordered by the median FLOORSMAX_AVG of its buildings, and the
    #: latent correlation of the two.
    walls_by_height: tuple[str, ...]
    walls_height_correlation: float
    #: Pensioners earn and borrow less than their age alone explains: shifts of their
    #: income and credit-size latents.
    pensioner_income_shift: float
    pensioner_credit_shift: float
    #: Weight of a shared affluence factor (region + income) in the building latents.
    building_affluence_loading: float
    #: Revolving loans: AMT_ANNUITY is this share of AMT_CREDIT, the credit a multiple of
    #: the step; cash-loan goods prices and incomes are multiples of their steps.
    revolving_annuity_rate: float
    revolving_credit_step: int
    goods_price_step: int
    income_step: int
    #: Nobody worked before this age.
    min_work_age_years: int
    #: IDs are issued at the first age and replaced at the second, and none is older than
    #: ``id_earliest`` (days): DAYS_ID_PUBLISH is the later of the last milestone and that
    #: date, plus a delay (a share of the time since; quantiles ID_DELAY_20,
    #: ID_DELAY_EXCHANGE, ID_DELAY_45).
    id_milestones_years: tuple[int, int]
    id_earliest: int
    #: Latent correlation of the missingness of building fields (how much they go together).
    building_missing_correlation: float
    risk: Risk


def _tuples(value: Any) -> Any:
    """Lists -> tuples, recursively (dict values included)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _keyed[K](table: Mapping[str, Any], key: Callable[[str], K]) -> dict[K, Any]:
    return {key(k): _tuples(v) for k, v in table.items()}


#: Fields whose JSON object keys are numbers.
_NUMBER_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "children_4plus": lambda t: _keyed(t, int),
    "documents_employed": lambda t: _keyed(t, int),
    "documents_sentinel": lambda t: _keyed(t, int),
    "count_tables": lambda t: {name: _keyed(c, int) for name, c in t.items()},
    "markups": lambda t: _keyed(t, float),
    "rating_w_city": lambda t: {int(k): _keyed(c, int) for k, c in t.items()},
}


def from_dict(data: Mapping[str, Any]) -> Calibration:
    """A :class:`Calibration` from the parsed JSON (unknown keys other than ``source`` fail)."""
    names = {f.name for f in fields(Calibration)}
    unknown = sorted(set(data) - names - {"source"})
    absent = sorted(names - set(data))
    if unknown or absent:
        raise ValueError(f"calibration keys differ: unknown {unknown}, absent {absent}")
    values = {
        name: _NUMBER_KEYS[name](data[name]) if name in _NUMBER_KEYS else _tuples(data[name])
        for name in names - {"risk"}
    }
    return Calibration(**values, risk=Risk(**_tuples(data["risk"])))


def _vocabulary(field: str) -> tuple[str, ...]:
    return schema.FIELDS_BY_NAME[field].categories


def check(cal: Calibration, building_stats: Sequence[str]) -> None:
    """Every category named must be in the schema's vocabulary; shapes must agree."""
    named: list[tuple[str, Sequence[str]]] = [
        *((field, list(counts)) for field, counts in cal.category_counts.items()),
        *((field, list(weights)) for field, weights in cal.risk.category.items()),
        ("NAME_FAMILY_STATUS", list(cal.family_by_age)),
        ("NAME_HOUSING_TYPE", list(cal.housing_by_age)),
        ("WALLSMATERIAL_MODE", list(cal.walls_by_height)),
        ("OCCUPATION_TYPE", list(cal.occupation_share_male)),
    ]
    for field, values in named:
        unknown = sorted(set(values) - set(_vocabulary(field)))
        if unknown:
            raise ValueError(f"calibration names {unknown} outside the {field} vocabulary")
    if set(cal.walls_by_height) != set(_vocabulary("WALLSMATERIAL_MODE")):
        raise ValueError("walls_by_height must rank the whole WALLSMATERIAL_MODE vocabulary")
    if set(cal.building_missing) != set(building_stats):
        raise ValueError("building_missing must cover the schema's building statistics")
    bad = [name for name, q in cal.quantiles.items() if len(q) != len(cal.knot_probs)]
    if bad:
        raise ValueError(f"quantiles of {bad} do not match knot_probs")
    for name, lower, k in (("core_correlation", cal.core_correlation, len(cal.core_dimensions)),
                           ("building_correlation", cal.building_correlation,
                            len(building_stats) + 1)):
        if [len(row) for row in lower] != list(range(1, k)):
            raise ValueError(f"{name} must be the strict lower triangle of a {k}x{k} matrix")


@cache
def load() -> Calibration:
    """The packaged calibration (read once)."""
    text = resources.files("training").joinpath(RESOURCE).read_text(encoding="utf-8")
    return from_dict(json.loads(text))
