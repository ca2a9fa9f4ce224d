"""What training and serving share about explaining a score to an applicant.

* which applicant fields each engineered feature is computed from, and how its TreeSHAP
  contribution is split back onto them (``ENGINEERED_SOURCES``);
* the field groups a person recognises (``FIELD_GROUPS``; every other field is its own
  group) and each field's short plain-language label (``LABELS``, the project's own words);
* the statement templates (:func:`statement`);
* the protected attributes by default, and the age rule (applicants aged 62 or over never
  get a risk-raising reason derived from age).

Pure Python: this module is on the serving path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np

from contract import schema

#: Never model inputs, never reasons: captured for fairness monitoring only. Sex and
#: marital status are prohibited bases (ECOA / Regulation B, 12 CFR 1002.2(z), 1002.6(b));
#: age is left out too (docs/decisions.md: keeping it gave applicants aged 62+ a small
#: risk-raising age contribution, and dropping it cost no accuracy).
DEFAULT_PROTECTED: Final = ("CODE_GENDER", "DAYS_BIRTH", "NAME_FAMILY_STATUS")
#: The age field (days before the application, negative) and the protected age.
AGE_FIELD: Final = "DAYS_BIRTH"
ELDERLY_AGE: Final = 62
DAYS_PER_YEAR: Final = 365.25

#: Fairness monitoring groups: age bands (lower bound in years, label), the last open-ended.
AGE_BANDS: Final = ((0.0, "<30"), (30.0, "30-44"), (45.0, "45-61"), (62.0, "62+"))
GENDER_FIELD: Final = "CODE_GENDER"
MARITAL_FIELD: Final = "NAME_FAMILY_STATUS"
#: The group of a missing categorical value.
MISSING_GROUP: Final = "missing"


def age_band(days_birth: np.ndarray) -> np.ndarray:
    """The AGE_BANDS label of each DAYS_BIRTH (days before the application, negative);
    "missing" where it is NaN."""
    years = -np.asarray(days_birth, dtype=np.float64) / DAYS_PER_YEAR
    bounds = np.array([b for b, _ in AGE_BANDS[1:]])
    labels = np.array([label for _, label in AGE_BANDS] + ["missing"], dtype=object)
    index = np.searchsorted(bounds, years, side="right")
    index[np.isnan(years)] = len(AGE_BANDS)
    return labels[index]


# How an engineered feature's contribution is split onto its source fields (exactly: the
# shares of one contribution sum to it).
EQUAL: Final = "equal"            # equal shares over all source fields
PRESENT: Final = "present"        # equal shares over the sources present (all when none)
MISSING: Final = "missing"        # equal shares over the sources missing (all when none)
ARGMIN: Final = "argmin"          # all of it to the smallest present source (first on ties)
ARGMAX: Final = "argmax"          # all of it to the largest present source

EXT_SOURCES: Final = ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3")
ENGINEERED_SOURCES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "DAYS_EMPLOYED_ANOMALY": (EQUAL, ("DAYS_EMPLOYED",)),
    "CREDIT_ANNUITY_RATIO": (EQUAL, ("AMT_CREDIT", "AMT_ANNUITY")),
    "ANNUITY_INCOME_RATIO": (EQUAL, ("AMT_ANNUITY", "AMT_INCOME_TOTAL")),
    "CREDIT_INCOME_RATIO": (EQUAL, ("AMT_CREDIT", "AMT_INCOME_TOTAL")),
    "CREDIT_GOODS_RATIO": (EQUAL, ("AMT_CREDIT", "AMT_GOODS_PRICE")),
    "INCOME_PER_PERSON": (EQUAL, ("AMT_INCOME_TOTAL", "CNT_FAM_MEMBERS")),
    "EMPLOYED_AGE_RATIO": (EQUAL, ("DAYS_EMPLOYED", "DAYS_BIRTH")),
    "EXT_SOURCE_MEAN": (PRESENT, EXT_SOURCES),
    "EXT_SOURCE_MIN": (ARGMIN, EXT_SOURCES),
    "EXT_SOURCE_MAX": (ARGMAX, EXT_SOURCES),
    "EXT_SOURCE_COUNT": (MISSING, EXT_SOURCES),
}


def fairness_groups(category: Callable[[str], np.ndarray], days_birth: np.ndarray
                    ) -> dict[str, np.ndarray]:
    """attribute -> group label per row, the groups of training's fairness evidence and of
    the drift job's monitoring: gender and marital status as sent (a missing value is the
    group "missing"), and the age band. ``category(field)`` gives a categorical field's
    values, a missing one as None."""

    def as_sent(field: str) -> np.ndarray:
        return np.array([MISSING_GROUP if v is None else v for v in category(field)],
                        dtype=object)

    return {"gender": as_sent(GENDER_FIELD), "age": age_band(days_birth),
            "marital_status": as_sent(MARITAL_FIELD)}


def feature_sources(feature: str) -> tuple[str, ...]:
    """The applicant fields a model feature is computed from."""
    if feature in ENGINEERED_SOURCES:
        return ENGINEERED_SOURCES[feature][1]
    if feature in schema.FIELDS_BY_NAME:
        return (feature,)
    raise KeyError(f"unknown feature {feature!r}")


def excluded_features(features: tuple[str, ...] | list[str],
                      protected: tuple[str, ...] | list[str]) -> list[str]:
    """The features that are, or derive from, a protected field."""
    banned = set(protected)
    return [f for f in features if banned & set(feature_sources(f))]


_BUILDING_PARTS = {
    "APARTMENTS": "apartments", "BASEMENTAREA": "basement area",
    "YEARS_BEGINEXPLUATATION": "years in use", "YEARS_BUILD": "building age",
    "COMMONAREA": "common area", "ELEVATORS": "elevators", "ENTRANCES": "entrances",
    "FLOORSMAX": "highest floor", "FLOORSMIN": "lowest floor", "LANDAREA": "land area",
    "LIVINGAPARTMENTS": "living apartments", "LIVINGAREA": "living area",
    "NONLIVINGAPARTMENTS": "non-living apartments", "NONLIVINGAREA": "non-living area",
}
_STATS = {"AVG": "average", "MODE": "most common", "MEDI": "median"}
_BUILDING = (
    *(f"{p}_{s}" for s in _STATS for p in _BUILDING_PARTS), "FONDKAPREMONT_MODE",
    "HOUSETYPE_MODE", "TOTALAREA_MODE", "WALLSMATERIAL_MODE", "EMERGENCYSTATE_MODE")
_DOCUMENTS = tuple(f"FLAG_DOCUMENT_{i}" for i in range(2, 22))
_PERIODS = {"HOUR": "hour", "DAY": "day", "WEEK": "week", "MON": "month", "QRT": "quarter",
            "YEAR": "year"}
_ENQUIRIES = tuple(f"AMT_REQ_CREDIT_BUREAU_{p}" for p in _PERIODS)

#: Groups of fields shown as one reason: (label, fields).
FIELD_GROUPS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "BUILDING": ("information about the applicant's home building", _BUILDING),
    "DOCUMENTS": ("documents provided with the application", _DOCUMENTS),
    "CREDIT_BUREAU_ENQUIRIES": ("recent enquiries to the credit bureau", _ENQUIRIES),
    "SOCIAL_CIRCLE": ("payment records of the applicant's social circle", (
        "OBS_30_CNT_SOCIAL_CIRCLE", "DEF_30_CNT_SOCIAL_CIRCLE", "OBS_60_CNT_SOCIAL_CIRCLE",
        "DEF_60_CNT_SOCIAL_CIRCLE")),
    "CONTACT": ("contact details provided", (
        "FLAG_MOBIL", "FLAG_EMP_PHONE", "FLAG_WORK_PHONE", "FLAG_CONT_MOBILE", "FLAG_PHONE",
        "FLAG_EMAIL")),
    "ADDRESS_MATCH": ("whether home, registered and work addresses match", (
        "REG_REGION_NOT_LIVE_REGION", "REG_REGION_NOT_WORK_REGION",
        "LIVE_REGION_NOT_WORK_REGION", "REG_CITY_NOT_LIVE_CITY", "REG_CITY_NOT_WORK_CITY",
        "LIVE_CITY_NOT_WORK_CITY")),
    "REGION_RATING": ("rating of the applicant's region", (
        "REGION_RATING_CLIENT", "REGION_RATING_CLIENT_W_CITY")),
}

_OWN_LABELS = {
    "NAME_CONTRACT_TYPE": "type of loan", "CODE_GENDER": "gender",
    "FLAG_OWN_CAR": "owns a car", "FLAG_OWN_REALTY": "owns a home",
    "CNT_CHILDREN": "number of children", "AMT_INCOME_TOTAL": "income",
    "AMT_CREDIT": "loan amount", "AMT_ANNUITY": "loan repayment per year",
    "AMT_GOODS_PRICE": "price of the goods the loan is for",
    "NAME_TYPE_SUITE": "who came with the applicant", "NAME_INCOME_TYPE": "source of income",
    "NAME_EDUCATION_TYPE": "education", "NAME_FAMILY_STATUS": "family status",
    "NAME_HOUSING_TYPE": "housing situation",
    "REGION_POPULATION_RELATIVE": "population density of the home region",
    "DAYS_BIRTH": "age", "DAYS_EMPLOYED": "time in the current job",
    "DAYS_REGISTRATION": "time since the registration was last changed",
    "DAYS_ID_PUBLISH": "time since the identity document was issued",
    "OWN_CAR_AGE": "age of the applicant's car", "OCCUPATION_TYPE": "occupation",
    "CNT_FAM_MEMBERS": "number of family members",
    "WEEKDAY_APPR_PROCESS_START": "day of the week the application was made",
    "HOUR_APPR_PROCESS_START": "hour the application was made",
    "ORGANIZATION_TYPE": "type of employer",
    "DAYS_LAST_PHONE_CHANGE": "time since the phone number last changed",
    **{f"EXT_SOURCE_{i}": f"score from external credit bureau {i}" for i in (1, 2, 3)},
    **{f"{p}_{s}": f"{n} of the home building ({_STATS[s]})"
       for p, n in _BUILDING_PARTS.items() for s in _STATS},
    "FONDKAPREMONT_MODE": "home building's repair fund", "HOUSETYPE_MODE": "type of home",
    "TOTALAREA_MODE": "total area of the home building",
    "WALLSMATERIAL_MODE": "wall material of the home building",
    "EMERGENCYSTATE_MODE": "home building in a state of emergency",
    "OBS_30_CNT_SOCIAL_CIRCLE": "acquaintances with a 30-day overdue credit history",
    "DEF_30_CNT_SOCIAL_CIRCLE": "acquaintances who defaulted after 30 days overdue",
    "OBS_60_CNT_SOCIAL_CIRCLE": "acquaintances with a 60-day overdue credit history",
    "DEF_60_CNT_SOCIAL_CIRCLE": "acquaintances who defaulted after 60 days overdue",
    "FLAG_MOBIL": "mobile phone given", "FLAG_EMP_PHONE": "work phone given",
    "FLAG_WORK_PHONE": "home phone given", "FLAG_CONT_MOBILE": "mobile phone reachable",
    "FLAG_PHONE": "landline given", "FLAG_EMAIL": "e-mail given",
    "REGION_RATING_CLIENT": "rating of the home region",
    "REGION_RATING_CLIENT_W_CITY": "rating of the home region and city",
    "REG_REGION_NOT_LIVE_REGION": "registered region differs from home region",
    "REG_REGION_NOT_WORK_REGION": "registered region differs from work region",
    "LIVE_REGION_NOT_WORK_REGION": "home region differs from work region",
    "REG_CITY_NOT_LIVE_CITY": "registered city differs from home city",
    "REG_CITY_NOT_WORK_CITY": "registered city differs from work city",
    "LIVE_CITY_NOT_WORK_CITY": "home city differs from work city",
    **{f"FLAG_DOCUMENT_{i}": f"document {i} provided" for i in range(2, 22)},
    **{f"AMT_REQ_CREDIT_BUREAU_{p}": f"credit bureau enquiries in the last {n}"
       for p, n in _PERIODS.items()},
}
#: Each applicant field's short plain-language label (lower case, used inside sentences).
LABELS: Final[dict[str, str]] = {f.name: _OWN_LABELS[f.name] for f in schema.FEATURE_FIELDS}

#: Fields whose values are days before the application: shown in years.
_DAYS_FIELDS = frozenset(f.name for f in schema.FEATURE_FIELDS if f.name.startswith("DAYS_"))
_FLAG_FIELDS = frozenset(f.name for f in schema.FEATURE_FIELDS
                         if f.kind == "integer" and f.minimum == 0 and f.maximum == 1)


def is_elderly(days_birth: object) -> bool:
    """Whether DAYS_BIRTH says the applicant is aged 62 or over."""
    return isinstance(days_birth, int | float) and bool(
        elderly(np.array([days_birth], dtype=np.float64))[0])


def elderly(days_birth: np.ndarray) -> np.ndarray:
    """[N] bool: is_elderly for a column of DAYS_BIRTH (NaN where missing)."""
    return np.isfinite(days_birth) & (-days_birth / DAYS_PER_YEAR >= ELDERLY_AGE)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shown(field: str, value: float) -> str:
    if field in _DAYS_FIELDS:
        return f"{abs(value) / DAYS_PER_YEAR:.1f} years"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 10 else f"{value:.2f}"


def statement(field: str, label: str, value: object, median: float | None,
              raises: bool) -> str:
    """The plain-language reason for one field: its value, then what it did to the risk,
    e.g. "Score from external credit bureau 3 is low (0.27), which raises the risk" or
    "No score from external credit bureau 1 on file, which raises the risk".

    High or low is against the training median and says nothing about the direction on
    its own (the model's effects need not be monotonic), so the direction is always said.
    """
    return f"{_value_text(field, label, value, median)}, which {_verb(raises)} the risk"


def _verb(raises: bool) -> str:
    return "raises" if raises else "lowers"


def _value_text(field: str, label: str, value: object, median: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"No {label} on file"
    if isinstance(value, str):
        return f"{_capital(label)}: {value}"
    number = float(value)  # type: ignore[arg-type]
    if field == "DAYS_EMPLOYED" and number == schema.DAYS_EMPLOYED_SENTINEL:
        return "Not in employment"
    if field in _FLAG_FIELDS:
        return f"{_capital(label)}: {'yes' if number else 'no'}"
    if median is None or number == median:
        return f"{_capital(label)}: {_shown(field, number)}"
    # Days fields count backwards (negative): a longer time is a smaller number.
    high = (number < median) if field in _DAYS_FIELDS else (number > median)
    return f"{_capital(label)} is {'high' if high else 'low'} ({_shown(field, number)})"


#: Groups whose label is a plural noun phrase (the verb agrees: "Documents ... raise the
#: risk"); every other label is singular ("Rating of the applicant's region raises ...").
PLURAL_GROUPS: Final = frozenset({"DOCUMENTS", "CREDIT_BUREAU_ENQUIRIES", "SOCIAL_CIRCLE",
                                  "CONTACT"})
_PLURAL_LABELS: Final = frozenset(FIELD_GROUPS[g][0] for g in PLURAL_GROUPS)


def group_statement(label: str, raises: bool) -> str:
    """The reason for a group of fields, its verb agreeing with the group's label."""
    verb = ("raise" if raises else "lower") if label in _PLURAL_LABELS else _verb(raises)
    return f"{_capital(label)} {verb} the risk"
