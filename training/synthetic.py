"""Synthetic Home-Credit-shaped applications: the project's embedded default data set.

``generate(rows, seed)`` returns a frame with exactly ``schema.TRAINING_COLUMNS`` (SK_ID_CURR,
TARGET, then the 120 applicant fields in schema order) so that training, the tests and the
benchmarks run on a fresh machine without the real Kaggle files. ``write_sample`` writes one
to CSV, gzipped CSV or Parquet.

Calibration: every number the generator draws from (marginal quantiles, missing rates,
category counts, normal-score correlations, conditional tables, the risk model) is in
``training/data/synthetic_calibration.json``, read by :mod:`training.synthetic_calibration`.
No row of real data is embedded. Vocabularies, bounds and nullability come from
``contract.schema`` only.

Generation (vectorised numpy, one ``np.random.Generator`` per call, so a seed fixes the frame),
in stages that each add their columns:

* a Gaussian copula over the latent applicant dimensions (age, income, credit size, annuity
  rate, price markup, the three EXT_SOURCE scores, region, registration date, ID delay, phone
  change, employment length, education, gender, car) with the sample's normal-score
  correlations; each dimension is mapped back through the sample's quantiles (or
  category/ordinal frequencies);
* structural rules of the real data: pensioners (by age and gender) and the unemployed carry
  DAYS_EMPLOYED = 365243, ORGANIZATION_TYPE "XNA", FLAG_EMP_PHONE = 0 and no occupation;
  AMT_GOODS_PRICE times a credit markup is AMT_CREDIT, AMT_ANNUITY is AMT_CREDIT times a monthly
  rate (a fixed rate on revolving loans); CNT_FAM_MEMBERS = children + 1 + partner;
  OWN_CAR_AGE exists iff the applicant owns a car; a region fixes REGION_RATING_CLIENT; IDs
  date from two milestone ages;
* building statistics from a second copula (one latent per statistic, *_MEDI and *_MODE being
  noisy copies of *_AVG) and missing together: a building record exists for some rows and its
  fields then go missing by a correlated, nested pattern;
* TARGET drawn from a logistic risk model on the latent (pre-masking) values: lower EXT_SOURCE_*,
  younger age, longer credit term, male, lower education, some income types and occupations,
  worse region rating, defaults in the social circle raise risk. The intercept is solved so the
  expected positive rate is TARGET_RATE.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from contract import schema
from training import synthetic_calibration

_CAL = synthetic_calibration.load()
_RISK = _CAL.risk

#: Share of positives the generator aims at.
TARGET_RATE = _CAL.target_rate
#: Row count of the real application_train.csv (the default size of a full synthetic set).
FULL_ROWS = _CAL.full_rows

#: Category values the generator's rules refer to (checked against the schema at import).
_COUPLE = ("Married", "Civil marriage")
_PENSIONER = "Pensioner"
_UNEMPLOYED = "Unemployed"
_REVOLVING = "Revolving loans"
_NO_ORGANIZATION = "XNA"
#: NAME_EDUCATION_TYPE from lowest to highest: the EDUCATION latent is cut in this order.
_EDUCATION_ORDER = (
    "Lower secondary", "Secondary / secondary special", "Incomplete higher", "Higher education",
    "Academic degree",
)

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_NORMAL = NormalDist()
_BUILDING_STATS: tuple[str, ...] = tuple(
    f.name[: -len("_AVG")] for f in schema.FEATURE_FIELDS if f.name.endswith("_AVG")
)
_SOCIAL = tuple(f.name for f in schema.FEATURE_FIELDS if f.name.endswith("_CNT_SOCIAL_CIRCLE"))
#: The six address-mismatch flags, in schema order (the order of the address-pattern bits).
_ADDRESS_FLAGS = tuple(f.name for f in schema.FEATURE_FIELDS if "_NOT_" in f.name)
_BUREAU = tuple(f.name for f in schema.FEATURE_FIELDS if f.name.startswith("AMT_REQ_CREDIT_"))
_DOCUMENT_NUMBERS = tuple(
    int(f.name.rsplit("_", 1)[1]) for f in schema.FEATURE_FIELDS
    if f.name.startswith("FLAG_DOCUMENT_")
)


def _share(field: str, value: str) -> float:
    counts = _CAL.category_counts[field]
    return counts[value] / sum(counts.values())


def _missing_rates() -> dict[str, float]:
    rates = dict(_CAL.sample_missing)
    for stat, rate in _CAL.building_missing.items():
        for suffix in ("AVG", "MODE", "MEDI"):
            rates[f"{stat}_{suffix}"] = rate
    for name, count in _CAL.full_data_missing_counts.items():
        rates[name] = max(rates[name], count / _CAL.full_rows)
    return {f.name: rates[f.name] for f in schema.FEATURE_FIELDS if f.nullable}


#: Expected missing rate of every nullable field (the sample's, or the full data's if tiny).
MISSING_RATES: dict[str, float] = _missing_rates()


def _inv_cdf(p: float) -> float:
    return _NORMAL.inv_cdf(min(max(p, 1e-12), 1 - 1e-12))


#: Normal scores of the quantile knots; the extreme knots sit at the 1/10,000 tails.
_KNOT_Z = np.array([_inv_cdf(min(max(p, 1e-4), 1 - 1e-4)) for p in _CAL.knot_probs])


def _quantile(name: str, z: np.ndarray) -> np.ndarray:
    """Map normal scores through the tabulated quantiles of ``name``."""
    return np.asarray(np.interp(z, _KNOT_Z, _CAL.quantiles[name]), dtype=np.float64)


def _cuts(weights: Sequence[float]) -> np.ndarray:
    """Normal-score thresholds splitting N(0, 1) into bins with these relative weights."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w)[:-1] / w.sum()
    return np.array([_inv_cdf(p) for p in cum])


def _bin(z: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Index of the bin of each latent value (bins ordered as ``weights``)."""
    return np.searchsorted(_cuts(weights), z, side="right")


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(w) - 1)


def _pick_by_group(
    rng: np.random.Generator, group: np.ndarray, table: np.ndarray
) -> np.ndarray:
    """One draw per row from the row's group's weights (``table[group]``)."""
    u = rng.random(len(group))
    out = np.zeros(len(group), dtype=np.int64)
    cum = np.cumsum(table, axis=1) / table.sum(axis=1, keepdims=True)
    for g in range(table.shape[0]):
        rows = group == g
        out[rows] = np.searchsorted(cum[g], u[rows], side="right")
    picked: np.ndarray = np.minimum(out, table.shape[1] - 1)
    return picked


def _vocabulary(field: str) -> tuple[str, ...]:
    return schema.FIELDS_BY_NAME[field].categories


def _weights(field: str, counts: Mapping[str, float], exclude: Sequence[str] = ()) -> np.ndarray:
    """Weights over the schema vocabulary of ``field`` (absent values get the absent share)."""
    vocab = _vocabulary(field)
    total = float(sum(counts.values()))
    w = np.array([counts.get(v, _CAL.absent_share * total) for v in vocab], dtype=np.float64)
    w[[vocab.index(v) for v in exclude]] = 0.0
    return w


def _categories(field: str, index: np.ndarray) -> np.ndarray:
    values: np.ndarray = np.asarray(_vocabulary(field), dtype=object)[index]
    return values


def _sample_category(
    rng: np.random.Generator, n: int, field: str, exclude: Sequence[str] = ()
) -> np.ndarray:
    weights = _weights(field, _CAL.category_counts[field], exclude)
    return _categories(field, _pick(rng, n, weights))


def _sample_counts(rng: np.random.Generator, n: int, table: Mapping[int, int]) -> np.ndarray:
    values = np.array(list(table), dtype=np.float64)
    return np.asarray(values[_pick(rng, n, list(table.values()))], dtype=np.float64)


def _band(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="right")


def _cholesky(lower: Sequence[Sequence[float]]) -> np.ndarray:
    """Cholesky factor of the correlation matrix given by its strict lower triangle.

    The rounded, pairwise-estimated matrix need not be positive definite: clip its
    eigenvalues and rescale to a unit diagonal first.
    """
    k = len(lower) + 1
    corr = np.eye(k)
    for i, row in enumerate(lower, start=1):
        corr[i, :i] = row
        corr[:i, i] = row
    values, vectors = np.linalg.eigh(corr)
    corr = (vectors * np.maximum(values, 1e-3)) @ vectors.T
    d = np.sqrt(np.diag(corr))
    return np.linalg.cholesky(corr / np.outer(d, d))


@cache
def _core_factor() -> np.ndarray:
    return _cholesky(_CAL.core_correlation)


@cache
def _building_factor() -> np.ndarray:
    return _cholesky(_CAL.building_correlation)


@cache
def _affluence_scale() -> float:
    """Standard deviation of REGION + AMT_INCOME_TOTAL latents (to standardise their sum)."""
    factor = _core_factor()
    i = _CAL.core_dimensions.index("REGION")
    j = _CAL.core_dimensions.index("AMT_INCOME_TOTAL")
    return float(np.sqrt(2.0 + 2.0 * factor[i] @ factor[j]))


def _noisy(rng: np.random.Generator, z: np.ndarray, correlation: float) -> np.ndarray:
    """A standard normal with the given correlation to ``z``."""
    noisy: np.ndarray = correlation * z + np.sqrt(1.0 - correlation**2) * rng.standard_normal(
        len(z))
    return noisy


def _masked(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        out = values.copy()
        out[missing] = np.nan
        return out
    return np.where(missing, np.nan, values.astype(np.float64))


def _solve_intercept(logit: np.ndarray, rate: float) -> float:
    """The intercept b with mean(sigmoid(b + logit)) == rate (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + logit)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _validate_rules() -> None:
    """The calibration and the category values the rules name must fit the schema."""
    synthetic_calibration.check(_CAL, _BUILDING_STATS)
    named: list[tuple[str, Sequence[str]]] = [
        ("NAME_FAMILY_STATUS", list(_COUPLE)),
        ("NAME_EDUCATION_TYPE", list(_EDUCATION_ORDER)),
        ("NAME_INCOME_TYPE", [_PENSIONER, _UNEMPLOYED]),
        ("NAME_CONTRACT_TYPE", [_REVOLVING]),
        ("ORGANIZATION_TYPE", [_NO_ORGANIZATION]),
        ("CODE_GENDER", ["F", "M", "XNA"]),
        ("FLAG_OWN_CAR", ["N", "Y"]),
    ]
    for field, values in named:
        unknown = sorted(set(values) - set(_vocabulary(field)))
        if unknown:
            raise ValueError(f"the generator names {unknown} outside the {field} vocabulary")
    if set(_EDUCATION_ORDER) != set(_vocabulary("NAME_EDUCATION_TYPE")):
        raise ValueError("_EDUCATION_ORDER must rank the whole NAME_EDUCATION_TYPE vocabulary")


_validate_rules()


# --------------------------------------------------------------------------------------------
# Generator: one function per stage, each adding its columns to ``col``. The stages draw
# from the one generator in a fixed order, so a seed fixes the frame.
# --------------------------------------------------------------------------------------------

Columns = dict[str, np.ndarray]
Latents = dict[str, np.ndarray]


@dataclass(frozen=True)
class _Applicant:
    """Who the applicant is: what the later stages and the risk model depend on."""

    days_birth: np.ndarray
    age: np.ndarray  # years
    male: np.ndarray
    pensioner: np.ndarray
    #: Pensioners and the unemployed: DAYS_EMPLOYED sentinel, no organisation or occupation.
    sentinel: np.ndarray

    @property
    def employed(self) -> np.ndarray:
        return ~self.sentinel


@dataclass(frozen=True)
class _BureauRisk:
    """The bureau stage's values the risk model reads before they are masked."""

    ext1_missing: np.ndarray
    ext3_missing: np.ndarray
    def30: np.ndarray


def generate(rows: int, seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """``rows`` synthetic applications with TARGET, columns exactly schema.TRAINING_COLUMNS.

    Non-nullable integer fields and TARGET are int64, other numeric fields float64 (NaN =
    missing), categories object strings (NaN = missing). Same seed, same frame.
    """
    return generate_with_true_pd(rows, seed, progress)[0]


def generate_with_true_pd(rows: int, seed: int = 0, progress: bool = False
                          ) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`generate`'s frame and each row's true default probability (the risk model's,
    from which TARGET was drawn), for simulations that need known PDs."""
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    rng = np.random.default_rng(seed)
    tick = _progress(progress)
    col: Columns = {schema.ID_FIELD: _ids(rng, rows)}
    latent = rng.standard_normal((rows, len(_CAL.core_dimensions))) @ _core_factor().T
    z = {name: latent[:, i] for i, name in enumerate(_CAL.core_dimensions)}
    tick("applicant")
    who = _applicant(rng, z, col)
    _money(rng, z, who, col)
    tick("money")
    _household(rng, z, who, col)
    tick("household")
    _region(rng, z, col)
    _dates(rng, z, who, col)
    _contacts_and_documents(rng, who, col)
    tick("region")
    _work(rng, who, col)
    bureau = _bureau(rng, z, who, col)
    tick("bureau")
    affluence = (z["REGION"] + z["AMT_INCOME_TOTAL"]) / _affluence_scale()
    col.update(_building(rng, rows, affluence))
    tick("building")
    col[schema.TARGET_FIELD], true_pd = _target(rng, z, who, bureau, col)
    tick("target")
    frame = _frame(col)
    tick("frame")
    return frame, true_pd


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Increasing SK_ID_CURR values with occasional gaps."""
    gaps = 1 + (rng.random(n) < _CAL.id_gap_share).astype(np.int64)
    return np.asarray(_CAL.first_id + np.cumsum(gaps) - gaps[0], dtype=np.int64)


def _applicant(rng: np.random.Generator, z: Latents, col: Columns) -> _Applicant:
    """Age, gender, pension, income type, employment, education."""
    n = len(z["DAYS_BIRTH"])
    days_birth = np.round(_quantile("DAYS_BIRTH", z["DAYS_BIRTH"]))
    age = -days_birth / 365.25
    male = z["MALE"] > _inv_cdf(_share("CODE_GENDER", "F"))
    gender = np.where(male, "M", "F").astype(object)
    gender[rng.random(n) < _CAL.absent_share] = "XNA"
    band = _band(age, _CAL.pension_age_edges)
    pension_share = np.where(
        male, np.asarray(_CAL.pensioner_share_male)[band],
        np.asarray(_CAL.pensioner_share_female)[band],
    )
    pensioner = rng.random(n) < pension_share
    income_type = _sample_category(rng, n, "NAME_INCOME_TYPE", exclude=(_PENSIONER,))
    income_type[pensioner] = _PENSIONER
    sentinel = pensioner | (income_type == _UNEMPLOYED)
    days_employed = np.round(_quantile("DAYS_EMPLOYED", z["DAYS_EMPLOYED"]))
    min_work_age_days = _CAL.min_work_age_years * 365
    days_employed = np.minimum(np.maximum(days_employed, days_birth + min_work_age_days), -1)
    days_employed = np.where(sentinel, schema.DAYS_EMPLOYED_SENTINEL, days_employed)
    education_counts = _CAL.category_counts["NAME_EDUCATION_TYPE"]
    education = np.asarray(_EDUCATION_ORDER, dtype=object)[
        _bin(z["EDUCATION"], [education_counts.get(v, 1) for v in _EDUCATION_ORDER])
    ]
    col.update(
        CODE_GENDER=gender, DAYS_BIRTH=days_birth, NAME_INCOME_TYPE=income_type,
        DAYS_EMPLOYED=days_employed, NAME_EDUCATION_TYPE=education,
        FLAG_EMP_PHONE=(~sentinel).astype(np.int64),
    )
    return _Applicant(days_birth=days_birth, age=age, male=male, pensioner=pensioner,
                      sentinel=sentinel)


def _money(rng: np.random.Generator, z: Latents, who: _Applicant, col: Columns) -> None:
    """Income, contract type, credit, goods price, annuity."""
    n = len(who.age)
    pension_offset = who.pensioner - _share("NAME_INCOME_TYPE", _PENSIONER)
    z_income = z["AMT_INCOME_TOTAL"] + _CAL.pensioner_income_shift * pension_offset
    z_credit = z["CREDIT_SIZE"] + _CAL.pensioner_credit_shift * pension_offset
    step = _CAL.income_step
    income = np.round(_quantile("AMT_INCOME_TOTAL", z_income) / step) * step
    col["AMT_INCOME_TOTAL"] = np.maximum(income, step)
    contract = _sample_category(rng, n, "NAME_CONTRACT_TYPE")
    revolving = contract == _REVOLVING
    goods = np.round(_quantile("AMT_GOODS_PRICE", z_credit) / _CAL.goods_price_step)
    goods = np.maximum(goods, 1) * _CAL.goods_price_step
    markups = sorted(_CAL.markups)
    markup = np.asarray(markups)[_bin(z["MARKUP"], [_CAL.markups[m] for m in markups])]
    credit = np.round(goods * markup * 2) / 2
    annuity = np.round(credit * _quantile("ANNUITY_RATE", z["ANNUITY_RATE"]) * 2) / 2
    rev_step = _CAL.revolving_credit_step
    rev_credit = np.round(_quantile("REVOLVING_CREDIT", z_credit) / rev_step) * rev_step
    credit = np.where(revolving, rev_credit, credit)
    goods = np.where(revolving, rev_credit, goods)
    annuity = np.where(revolving, rev_credit * _CAL.revolving_annuity_rate, annuity)
    goods_missing = revolving & (
        rng.random(n) < MISSING_RATES["AMT_GOODS_PRICE"] / _share("NAME_CONTRACT_TYPE", _REVOLVING)
    )
    annuity_missing = rng.random(n) < MISSING_RATES["AMT_ANNUITY"]
    col.update(
        NAME_CONTRACT_TYPE=contract, AMT_CREDIT=credit,
        AMT_ANNUITY=_masked(annuity, annuity_missing),
        AMT_GOODS_PRICE=_masked(goods, goods_missing),
    )


def _age_table(field: str, counts: Mapping[str, Sequence[int]], bands: int) -> np.ndarray:
    """[age band, vocabulary of ``field``] counts (zeros for values the table lacks)."""
    return np.array(
        [counts.get(v, (0,) * bands) for v in _vocabulary(field)], dtype=np.float64
    ).T


def _household(rng: np.random.Generator, z: Latents, who: _Applicant, col: Columns) -> None:
    """Car, realty, family status, children, housing, companion."""
    n = len(who.age)
    car = z["OWN_CAR"] > _inv_cdf(_share("FLAG_OWN_CAR", "N"))
    col["FLAG_OWN_CAR"] = np.where(car, "Y", "N").astype(object)
    car_age = np.round(_quantile("OWN_CAR_AGE", rng.standard_normal(n)))
    col["OWN_CAR_AGE"] = _masked(car_age, ~car)
    col["FLAG_OWN_REALTY"] = _sample_category(rng, n, "FLAG_OWN_REALTY")
    family_edges = _CAL.family_age_edges
    family_table = _age_table("NAME_FAMILY_STATUS", _CAL.family_by_age, len(family_edges) + 1)
    absent = _CAL.absent_share * family_table.sum(axis=1, keepdims=True) * (family_table == 0)
    family_table += absent
    family = _categories(
        "NAME_FAMILY_STATUS", _pick_by_group(rng, _band(who.age, family_edges), family_table)
    )
    couple = np.isin(family, _COUPLE)
    child_band = _band(who.age, _CAL.child_age_edges)
    children = np.where(
        couple,
        _pick_by_group(rng, child_band, np.asarray(_CAL.children_couple, dtype=np.float64)),
        _pick_by_group(rng, child_band, np.asarray(_CAL.children_single, dtype=np.float64)),
    )
    many = children >= 4
    children[many] = _sample_counts(rng, int(many.sum()), _CAL.children_4plus)
    fam_members = (children + 1 + couple).astype(np.float64)
    housing_table = _age_table(
        "NAME_HOUSING_TYPE", _CAL.housing_by_age, len(_CAL.child_age_edges) + 1
    )
    col.update(
        NAME_FAMILY_STATUS=family,
        CNT_CHILDREN=children.astype(np.int64),
        CNT_FAM_MEMBERS=_masked(fam_members, rng.random(n) < MISSING_RATES["CNT_FAM_MEMBERS"]),
        NAME_HOUSING_TYPE=_categories(
            "NAME_HOUSING_TYPE", _pick_by_group(rng, child_band, housing_table)
        ),
        NAME_TYPE_SUITE=_masked(
            _sample_category(rng, n, "NAME_TYPE_SUITE"),
            rng.random(n) < MISSING_RATES["NAME_TYPE_SUITE"],
        ),
    )


def _region(rng: np.random.Generator, z: Latents, col: Columns) -> None:
    """Region (population, rating) and the rating with the city."""
    regions = _CAL.regions
    region_values = np.array([r[0] for r in regions])
    region_ratings = np.array([r[2] for r in regions], dtype=np.int64)
    region = _bin(z["REGION"], [r[1] for r in regions])
    rating = region_ratings[region]
    rating_city = rating.copy()
    for level, counts in _CAL.rating_w_city.items():
        rows = rating == level
        options = np.array(list(counts), dtype=np.int64)
        rating_city[rows] = options[_pick(rng, int(rows.sum()), list(counts.values()))]
    col.update(
        REGION_POPULATION_RELATIVE=region_values[region],
        REGION_RATING_CLIENT=rating,
        REGION_RATING_CLIENT_W_CITY=rating_city,
    )


def _dates(rng: np.random.Generator, z: Latents, who: _Applicant, col: Columns) -> None:
    """Registration, ID publication and last phone change dates."""
    n = len(who.age)
    days_birth, age = who.days_birth, who.age
    days_registration = np.maximum(
        np.round(_quantile("DAYS_REGISTRATION", z["DAYS_REGISTRATION"])), days_birth
    )
    young, old = _CAL.id_milestones_years
    earliest = _CAL.id_earliest
    milestone = days_birth + np.where(age >= old, old, young) * 365.25
    delay = np.select(
        [milestone < earliest, age >= old],
        [
            _quantile("ID_DELAY_EXCHANGE", z["ID_DELAY"]),
            _quantile(f"ID_DELAY_{old}", z["ID_DELAY"]),
        ],
        _quantile(f"ID_DELAY_{young}", z["ID_DELAY"]),
    )
    start = np.minimum(np.maximum(milestone, earliest), 0)
    days_id = np.round(start - delay * start)
    days_phone = np.round(_quantile("DAYS_LAST_PHONE_CHANGE", z["DAYS_LAST_PHONE_CHANGE"]))
    col.update(
        DAYS_REGISTRATION=days_registration,
        DAYS_ID_PUBLISH=days_id,
        DAYS_LAST_PHONE_CHANGE=_masked(
            days_phone, rng.random(n) < MISSING_RATES["DAYS_LAST_PHONE_CHANGE"]
        ),
    )


def _contacts_and_documents(rng: np.random.Generator, who: _Applicant, col: Columns) -> None:
    """Contact flags, address-mismatch flags, the document, application weekday and hour."""
    n = len(who.age)
    employed, sentinel = who.employed, who.sentinel
    mobil_zero = _CAL.full_data_flag_mobil_zero_count / _CAL.full_rows
    col["FLAG_MOBIL"] = (rng.random(n) >= mobil_zero).astype(np.int64)
    for flag in _CAL.flag_rates_employed:
        rate = np.where(employed, _CAL.flag_rates_employed[flag], _CAL.flag_rates_sentinel[flag])
        col[flag] = (rng.random(n) < rate).astype(np.int64)
    address = np.zeros((n, len(_ADDRESS_FLAGS)), dtype=np.int64)
    for patterns, rows in (
        (_CAL.address_patterns_employed, employed), (_CAL.address_patterns_sentinel, sentinel)
    ):
        bits = np.array([[int(c) for c in p] for p in patterns], dtype=np.int64)
        address[rows] = bits[_pick(rng, int(rows.sum()), list(patterns.values()))]
    for j, name in enumerate(_ADDRESS_FLAGS):
        col[name] = address[:, j]
    document = np.zeros(n, dtype=np.int64)
    options = [0, *_DOCUMENT_NUMBERS]
    for table, rows in ((_CAL.documents_employed, employed), (_CAL.documents_sentinel, sentinel)):
        total = sum(table.values())
        weights = [table.get(d, _CAL.absent_share * total) for d in options]
        document[rows] = np.asarray(options)[_pick(rng, int(rows.sum()), weights)]
    for number in _DOCUMENT_NUMBERS:
        col[f"FLAG_DOCUMENT_{number}"] = (document == number).astype(np.int64)
    col["WEEKDAY_APPR_PROCESS_START"] = _sample_category(rng, n, "WEEKDAY_APPR_PROCESS_START")
    col["HOUR_APPR_PROCESS_START"] = _sample_counts(
        rng, n, _CAL.count_tables["HOUR_APPR_PROCESS_START"]
    ).astype(np.int64)


def _work(rng: np.random.Generator, who: _Applicant, col: Columns) -> None:
    """Organisation and occupation (none for pensioners and the unemployed)."""
    n = len(who.age)
    organization = _sample_category(rng, n, "ORGANIZATION_TYPE", exclude=(_NO_ORGANIZATION,))
    organization[who.sentinel] = _NO_ORGANIZATION
    occupation_vocab = _vocabulary("OCCUPATION_TYPE")
    occupation_counts = _weights("OCCUPATION_TYPE", _CAL.category_counts["OCCUPATION_TYPE"])
    share_male = np.array([_CAL.occupation_share_male.get(v, 0.5) for v in occupation_vocab])
    by_gender = np.vstack([occupation_counts * (1 - share_male), occupation_counts * share_male])
    occupation = _categories(
        "OCCUPATION_TYPE", _pick_by_group(rng, who.male.astype(np.int64), by_gender)
    )
    occupation_missing = who.sentinel | (rng.random(n) < _CAL.occupation_missing_employed)
    col["ORGANIZATION_TYPE"] = organization
    col["OCCUPATION_TYPE"] = _masked(occupation, occupation_missing)


def _bureau(rng: np.random.Generator, z: Latents, who: _Applicant, col: Columns) -> _BureauRisk:
    """External scores, credit-bureau enquiries, social circle."""
    n = len(who.age)
    ext = {i: _quantile(f"EXT_SOURCE_{i}", z[f"EXT_SOURCE_{i}"]) for i in (1, 2, 3)}
    ext1_rate = np.asarray(_CAL.ext_source_1_missing_by_age)[
        _band(who.age, _CAL.ext_source_1_age_edges)
    ]
    ext1_missing = rng.random(n) < ext1_rate
    ext2_missing = rng.random(n) < MISSING_RATES["EXT_SOURCE_2"]
    bureau_rate = MISSING_RATES[_BUREAU[0]]
    bureau_missing = rng.random(n) < bureau_rate
    ext3_extra = (MISSING_RATES["EXT_SOURCE_3"] - bureau_rate) / (1 - bureau_rate)
    ext3_missing = bureau_missing | (rng.random(n) < ext3_extra)
    for i, missing in ((1, ext1_missing), (2, ext2_missing), (3, ext3_missing)):
        col[f"EXT_SOURCE_{i}"] = _masked(np.round(ext[i], 6), missing)
    for name in _BUREAU:
        col[name] = _masked(_sample_counts(rng, n, _CAL.count_tables[name]), bureau_missing)
    obs30_table = _CAL.count_tables["OBS_30_CNT_SOCIAL_CIRCLE"]
    obs30 = _sample_counts(rng, n, obs30_table).astype(np.int64)
    def30 = rng.binomial(obs30, _CAL.def30_per_obs30)
    def60 = rng.binomial(def30, _CAL.def60_per_def30)
    same = rng.random(n) < _CAL.obs60_equals_obs30
    obs60 = np.where(same, obs30, np.maximum(obs30 - 1, def60))
    social_missing = rng.random(n) < MISSING_RATES["OBS_30_CNT_SOCIAL_CIRCLE"]
    for name, values in zip(_SOCIAL, (obs30, def30, obs60, def60), strict=True):
        col[name] = _masked(values, social_missing)
    return _BureauRisk(ext1_missing=ext1_missing, ext3_missing=ext3_missing, def30=def30)


def _target(rng: np.random.Generator, z: Latents, who: _Applicant, bureau: _BureauRisk,
            col: Columns) -> tuple[np.ndarray, np.ndarray]:
    """TARGET from the logistic risk model, its intercept solved for TARGET_RATE, and each
    row's true default probability."""
    logit = sum(w * z[name] for name, w in _RISK.latent.items())
    logit = logit + _RISK.employment * np.where(who.employed, z["DAYS_EMPLOYED"], 0.0)
    logit = logit + _RISK.region_rating * (col["REGION_RATING_CLIENT_W_CITY"] - 2)
    logit = logit + _RISK.def_30 * np.minimum(bureau.def30, _RISK.def_30_cap)
    logit = logit + _RISK.missing["EXT_SOURCE_1"] * bureau.ext1_missing
    logit = logit + _RISK.missing["EXT_SOURCE_3"] * bureau.ext3_missing
    for field, weights in _RISK.category.items():
        for value, w in weights.items():
            logit = logit + w * (col[field] == value)
    intercept = _solve_intercept(np.asarray(logit), TARGET_RATE)
    probability = 1.0 / (1.0 + np.exp(-(intercept + logit)))
    target: np.ndarray = (rng.random(len(who.age)) < probability).astype(np.int64)
    return target, np.asarray(probability, dtype=np.float64)


def _building(
    rng: np.random.Generator, n: int, affluence: np.ndarray
) -> dict[str, np.ndarray]:
    """The building block: *_AVG/_MODE/_MEDI statistics and the building categories.

    ``affluence`` (standard normal per row) raises every size statistic a little.
    """
    out: dict[str, np.ndarray] = {}
    present_share = 1.0 - MISSING_RATES["EMERGENCYSTATE_MODE"]
    present = rng.random(n) < present_share
    latent = rng.standard_normal((n, len(_BUILDING_STATS) + 1)) @ _building_factor().T
    loading = _CAL.building_affluence_loading
    latent = np.sqrt(1.0 - loading**2) * latent + loading * affluence[:, None]
    completeness = rng.standard_normal(n)

    def missing(marginal: float) -> np.ndarray:
        # Missing given a building record, nested through the shared `completeness` latent.
        given_present = 1.0 - (1.0 - marginal) / present_share
        if given_present <= 0:
            return ~present
        own = _noisy(rng, completeness, _CAL.building_missing_correlation)
        return ~present | (own < _inv_cdf(given_present))

    for i, stat in enumerate(_BUILDING_STATS):
        gone = missing(_CAL.building_missing[stat])
        mode_corr, medi_corr = _CAL.suffix_correlation[stat]
        avg = latent[:, i]
        scores = {
            "AVG": avg, "MODE": _noisy(rng, avg, mode_corr), "MEDI": _noisy(rng, avg, medi_corr)
        }
        for suffix, score in scores.items():
            name = f"{stat}_{suffix}"
            out[name] = _masked(np.round(_quantile(name, score), 4), gone)
    out["TOTALAREA_MODE"] = _masked(
        np.round(_quantile("TOTALAREA_MODE", latent[:, -1]), 4),
        missing(MISSING_RATES["TOTALAREA_MODE"]),
    )
    for field in ("FONDKAPREMONT_MODE", "HOUSETYPE_MODE"):
        out[field] = _masked(_sample_category(rng, n, field), missing(MISSING_RATES[field]))
    walls_counts = _CAL.category_counts["WALLSMATERIAL_MODE"]
    height = latent[:, _BUILDING_STATS.index("FLOORSMAX")]
    walls_latent = _noisy(rng, height, _CAL.walls_height_correlation)
    walls = np.asarray(_CAL.walls_by_height, dtype=object)[
        _bin(walls_latent, [walls_counts[w] for w in _CAL.walls_by_height])
    ]
    out["WALLSMATERIAL_MODE"] = _masked(walls, missing(MISSING_RATES["WALLSMATERIAL_MODE"]))
    out["EMERGENCYSTATE_MODE"] = _masked(_sample_category(rng, n, "EMERGENCYSTATE_MODE"), ~present)
    return out


def column_dtypes() -> dict[str, str]:
    """The pandas dtype of every training column, as ``generate`` returns them."""
    dtypes = {schema.ID_FIELD: "int64", schema.TARGET_FIELD: "int64"}
    for f in schema.FEATURE_FIELDS:
        if f.kind == "category":
            dtypes[f.name] = "object"
        elif f.kind == "integer" and not f.nullable:
            dtypes[f.name] = "int64"
        else:
            dtypes[f.name] = "float64"
    return {name: dtypes[name] for name in schema.TRAINING_COLUMNS}


def _frame(columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    if set(columns) != set(schema.TRAINING_COLUMNS):
        extra = sorted(set(columns) - set(schema.TRAINING_COLUMNS))
        lacking = sorted(set(schema.TRAINING_COLUMNS) - set(columns))
        raise AssertionError(f"generator columns differ from schema: +{extra} -{lacking}")
    data = {
        name: np.asarray(columns[name], dtype=dtype) for name, dtype in column_dtypes().items()
    }
    return pd.DataFrame(data, columns=list(schema.TRAINING_COLUMNS), copy=False)


_STAGES = ("applicant", "money", "household", "region", "bureau", "building", "target", "frame")


def _progress(enabled: bool) -> Callable[[str], None]:
    if not enabled:
        return lambda stage: None
    from tqdm import tqdm

    bar = tqdm(total=len(_STAGES), desc="synthetic data", unit="stage")

    def tick(stage: str) -> None:
        bar.set_postfix_str(stage)
        bar.update()
        if bar.n >= len(_STAGES):
            bar.close()

    return tick


def write_sample(path: str | Path, rows: int, seed: int = 0) -> Path:
    """Generate ``rows`` applications and write them to ``path``; returns the path.

    The format follows the suffix: ``.csv``, ``.csv.gz`` (reproducible bytes: no timestamp in
    the gzip header) or ``.parquet``.
    """
    path = Path(path)
    name = path.name.lower()
    if not name.endswith((".csv", ".csv.gz", ".parquet")):
        raise ValueError(f"unsupported suffix for {path} (use .csv, .csv.gz or .parquet)")
    frame = generate(rows, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".gz"):
        gzip = {"method": "gzip", "mtime": 0, "compresslevel": 6}  # see docs/decisions.md
        frame.to_csv(path, index=False, compression=gzip)
    else:
        frame.to_csv(path, index=False)
    return path


def key_statistics(frame: pd.DataFrame) -> dict[str, float]:
    """The figures the calibration is judged by (positive rate, sentinel rate, missing rates).

    Works on real and synthetic frames alike, so the two can be compared.
    """
    stats = {
        "rows": float(len(frame)),
        "positive_rate": float(frame[schema.TARGET_FIELD].mean()),
        "sentinel_rate": float((frame["DAYS_EMPLOYED"] == schema.DAYS_EMPLOYED_SENTINEL).mean()),
    }
    for f in schema.FEATURE_FIELDS:
        if f.nullable:
            stats[f"missing:{f.name}"] = float(frame[f.name].isna().mean())
    return stats


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic Home-Credit-shaped data set.")
    parser.add_argument("path", help="output file: .csv, .csv.gz or .parquet")
    parser.add_argument("--rows", type=int, default=FULL_ROWS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_sample(args.path, args.rows, seed=args.seed))


if __name__ == "__main__":
    main()
