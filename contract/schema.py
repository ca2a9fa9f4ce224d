"""The input schema: the one definition of an application that training, serving,
drift monitoring and the tests all share.

An application is ``SK_ID_CURR`` plus the 120 applicant fields of Home Credit's
``application_train.csv`` (training data adds ``TARGET``). Every field has a kind:

* ``integer``: a whole number (JSON integer; training accepts integral floats);
* ``number``: any finite number;
* ``category``: a string from a closed vocabulary.

``nullable`` fields may be null (missing); the others are required. ``minimum`` and
``maximum`` are the physical bounds the API enforces (inclusive). The vocabularies are
those of the full Kaggle data set, so a real application never meets an unknown value.

Pure Python + numpy: this module is on the serving path. Graph input names
(``NUMERIC_INPUT``, ``CATEGORICAL_INPUT``) come from :mod:`contract.graph`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from contract.graph import CATEGORICAL_INPUT, NUMERIC_INPUT

Kind = Literal["integer", "number", "category"]

ID_FIELD = "SK_ID_CURR"
TARGET_FIELD = "TARGET"
#: DAYS_EMPLOYED holds this value for applicants without employment (pensioners, ...).
DAYS_EMPLOYED_SENTINEL = 365243
#: How a missing category is passed to the model graph (mapped to NaN inside it).
MISSING_CATEGORY = ""


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    nullable: bool
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.kind, "nullable": self.nullable}
        if self.kind == "category":
            out["categories"] = list(self.categories)
        else:
            out["minimum"] = self.minimum
            out["maximum"] = self.maximum
        return out


_DAYS = (-36_500, 0)  # up to 100 years back, never in the future
_UNIT = (0, 1)
_FLAG = (0, 1)
_COUNT = (0, 1_000)

_ORGANIZATIONS = (
    "Advertising", "Agriculture", "Bank", "Business Entity Type 1", "Business Entity Type 2",
    "Business Entity Type 3", "Cleaning", "Construction", "Culture", "Electricity", "Emergency",
    "Government", "Hotel", "Housing", *(f"Industry: type {i}" for i in range(1, 14)),
    "Insurance", "Kindergarten", "Legal Services", "Medicine", "Military", "Mobile", "Other",
    "Police", "Postal", "Realtor", "Religion", "Restaurant", "School", "Security",
    "Security Ministries", "Self-employed", "Services", "Telecom",
    *(f"Trade: type {i}" for i in range(1, 8)), *(f"Transport: type {i}" for i in range(1, 5)),
    "University", "XNA",
)

_CATEGORIES: dict[str, tuple[str, ...]] = {
    "NAME_CONTRACT_TYPE": ("Cash loans", "Revolving loans"),
    "CODE_GENDER": ("F", "M", "XNA"),
    "FLAG_OWN_CAR": ("N", "Y"),
    "FLAG_OWN_REALTY": ("N", "Y"),
    "NAME_TYPE_SUITE": (
        "Children", "Family", "Group of people", "Other_A", "Other_B", "Spouse, partner",
        "Unaccompanied",
    ),
    "NAME_INCOME_TYPE": (
        "Businessman", "Commercial associate", "Maternity leave", "Pensioner", "State servant",
        "Student", "Unemployed", "Working",
    ),
    "NAME_EDUCATION_TYPE": (
        "Academic degree", "Higher education", "Incomplete higher", "Lower secondary",
        "Secondary / secondary special",
    ),
    "NAME_FAMILY_STATUS": (
        "Civil marriage", "Married", "Separated", "Single / not married", "Unknown", "Widow",
    ),
    "NAME_HOUSING_TYPE": (
        "Co-op apartment", "House / apartment", "Municipal apartment", "Office apartment",
        "Rented apartment", "With parents",
    ),
    "OCCUPATION_TYPE": (
        "Accountants", "Cleaning staff", "Cooking staff", "Core staff", "Drivers", "HR staff",
        "High skill tech staff", "IT staff", "Laborers", "Low-skill Laborers", "Managers",
        "Medicine staff", "Private service staff", "Realty agents", "Sales staff", "Secretaries",
        "Security staff", "Waiters/barmen staff",
    ),
    "WEEKDAY_APPR_PROCESS_START": (
        "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY",
    ),
    "ORGANIZATION_TYPE": _ORGANIZATIONS,
    "FONDKAPREMONT_MODE": (
        "not specified", "org spec account", "reg oper account", "reg oper spec account",
    ),
    "HOUSETYPE_MODE": ("block of flats", "specific housing", "terraced house"),
    "WALLSMATERIAL_MODE": (
        "Block", "Mixed", "Monolithic", "Others", "Panel", "Stone, brick", "Wooden",
    ),
    "EMERGENCYSTATE_MODE": ("No", "Yes"),
}

_BUILDING_STATS = (
    "APARTMENTS", "BASEMENTAREA", "YEARS_BEGINEXPLUATATION", "YEARS_BUILD", "COMMONAREA",
    "ELEVATORS", "ENTRANCES", "FLOORSMAX", "FLOORSMIN", "LANDAREA", "LIVINGAPARTMENTS",
    "LIVINGAREA", "NONLIVINGAPARTMENTS", "NONLIVINGAREA",
)


def _cat(name: str, nullable: bool = False) -> Field:
    return Field(name, "category", nullable, categories=_CATEGORIES[name])


def _int(name: str, bounds: tuple[float, float], nullable: bool = False) -> Field:
    return Field(name, "integer", nullable, *bounds)


def _num(name: str, bounds: tuple[float | None, float | None], nullable: bool = False) -> Field:
    return Field(name, "number", nullable, *bounds)


_MONEY = (0, None)

#: The 121 request fields, in the column order of application_test.csv.
FIELDS: tuple[Field, ...] = (
    _int(ID_FIELD, (0, 2**53)),
    _cat("NAME_CONTRACT_TYPE"),
    _cat("CODE_GENDER"),
    _cat("FLAG_OWN_CAR"),
    _cat("FLAG_OWN_REALTY"),
    _int("CNT_CHILDREN", (0, 100)),
    _num("AMT_INCOME_TOTAL", _MONEY),
    _num("AMT_CREDIT", _MONEY),
    _num("AMT_ANNUITY", _MONEY, nullable=True),
    _num("AMT_GOODS_PRICE", _MONEY, nullable=True),
    _cat("NAME_TYPE_SUITE", nullable=True),
    _cat("NAME_INCOME_TYPE"),
    _cat("NAME_EDUCATION_TYPE"),
    _cat("NAME_FAMILY_STATUS"),
    _cat("NAME_HOUSING_TYPE"),
    _num("REGION_POPULATION_RELATIVE", _UNIT),
    _int("DAYS_BIRTH", _DAYS),
    _int("DAYS_EMPLOYED", (_DAYS[0], DAYS_EMPLOYED_SENTINEL)),
    _num("DAYS_REGISTRATION", _DAYS),
    _int("DAYS_ID_PUBLISH", _DAYS),
    _num("OWN_CAR_AGE", (0, 100), nullable=True),
    *(
        _int(f"FLAG_{name}", _FLAG)
        for name in ("MOBIL", "EMP_PHONE", "WORK_PHONE", "CONT_MOBILE", "PHONE", "EMAIL")
    ),
    _cat("OCCUPATION_TYPE", nullable=True),
    _num("CNT_FAM_MEMBERS", (0, 100), nullable=True),
    _int("REGION_RATING_CLIENT", (1, 3)),
    _int("REGION_RATING_CLIENT_W_CITY", (1, 3)),
    _cat("WEEKDAY_APPR_PROCESS_START"),
    _int("HOUR_APPR_PROCESS_START", (0, 23)),
    *(
        _int(name, _FLAG)
        for name in (
            "REG_REGION_NOT_LIVE_REGION", "REG_REGION_NOT_WORK_REGION",
            "LIVE_REGION_NOT_WORK_REGION", "REG_CITY_NOT_LIVE_CITY", "REG_CITY_NOT_WORK_CITY",
            "LIVE_CITY_NOT_WORK_CITY",
        )
    ),
    _cat("ORGANIZATION_TYPE"),
    *(_num(f"EXT_SOURCE_{i}", _UNIT, nullable=True) for i in (1, 2, 3)),
    *(
        _num(f"{stat}_{suffix}", _UNIT, nullable=True)
        for suffix in ("AVG", "MODE", "MEDI")
        for stat in _BUILDING_STATS
    ),
    _cat("FONDKAPREMONT_MODE", nullable=True),
    _cat("HOUSETYPE_MODE", nullable=True),
    _num("TOTALAREA_MODE", _UNIT, nullable=True),
    _cat("WALLSMATERIAL_MODE", nullable=True),
    _cat("EMERGENCYSTATE_MODE", nullable=True),
    *(
        _num(f"{kind}_{days}_CNT_SOCIAL_CIRCLE", _COUNT, nullable=True)
        for days in (30, 60)
        for kind in ("OBS", "DEF")
    ),
    _num("DAYS_LAST_PHONE_CHANGE", _DAYS, nullable=True),
    *(_int(f"FLAG_DOCUMENT_{i}", _FLAG) for i in range(2, 22)),
    *(
        _num(f"AMT_REQ_CREDIT_BUREAU_{period}", _COUNT, nullable=True)
        for period in ("HOUR", "DAY", "WEEK", "MON", "QRT", "YEAR")
    ),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: The 120 applicant fields: everything but the id. These are the model's raw inputs.
FEATURE_FIELDS: tuple[Field, ...] = tuple(f for f in FIELDS if f.name != ID_FIELD)
NUMERIC_FIELDS: tuple[str, ...] = tuple(f.name for f in FEATURE_FIELDS if f.kind != "category")
CATEGORICAL_FIELDS: tuple[str, ...] = tuple(f.name for f in FEATURE_FIELDS if f.kind == "category")
#: Columns of a training file: the request fields plus TARGET after the id.
TRAINING_COLUMNS: tuple[str, ...] = (ID_FIELD, TARGET_FIELD, *(f.name for f in FEATURE_FIELDS))


def encode_columns(columns: Mapping[str, Sequence[Any]] | Any) -> dict[str, np.ndarray]:
    """Turn columns (a dict of lists, or a pandas DataFrame) into the model graph's inputs.

    Numeric fields become one float64 matrix (missing -> NaN); categorical fields one
    string matrix (missing -> MISSING_CATEGORY). Training and serving both call this,
    so the two cannot disagree on column order or missing-value encoding.
    """
    numeric = np.column_stack(
        [np.asarray(_numbers(columns[name]), dtype=np.float64) for name in NUMERIC_FIELDS]
    )
    categorical = np.column_stack(
        [np.asarray(_strings(columns[name]), dtype=object) for name in CATEGORICAL_FIELDS]
    )
    return {NUMERIC_INPUT: numeric, CATEGORICAL_INPUT: categorical}


def encode_records(records: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """encode_columns for a list of validated applications (dicts keyed by field name)."""
    columns = {
        f.name: [record.get(f.name) for record in records] for f in FEATURE_FIELDS
    }
    return encode_columns(columns)


def _numbers(values: Sequence[Any]) -> Any:
    if hasattr(values, "to_numpy"):  # a pandas column (training): NaN already marks missing
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return [np.nan if v is None else v for v in values]


def _strings(values: Sequence[Any]) -> Any:
    if hasattr(values, "to_numpy"):  # a pandas column: vectorised missing -> MISSING_CATEGORY
        column: Any = values
        return column.where(column.notna(), MISSING_CATEGORY).to_numpy(dtype=object)
    return [v if isinstance(v, str) else MISSING_CATEGORY for v in values]
