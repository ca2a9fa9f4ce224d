"""Synthetic Home-Credit-shaped applications: the project's embedded default data set.

``generate(rows, seed)`` returns a frame with exactly ``schema.TRAINING_COLUMNS`` (SK_ID_CURR,
TARGET, then the 120 applicant fields in schema order) so that training, the tests and the
benchmarks run on a fresh machine without the real Kaggle files. ``write_sample`` writes one
to CSV, gzipped CSV or Parquet.

Calibration. Every number in the "calibration" section below was computed once from the real
5,000-row sample (``application_train_sample.csv``: marginal quantiles, missing rates, category
counts, normal-score correlations, a few conditional tables). No row of real data is embedded.
A handful of values the sample is too small to show come from the published counts of the full
307,511-row ``application_train.csv`` and are marked so (e.g. AMT_ANNUITY is missing 12 times).
Vocabularies, bounds and nullability come from ``contract.schema`` only.

Generation (vectorised numpy, one ``np.random.Generator`` per call, so a seed fixes the frame):

* a Gaussian copula over 16 latent applicant dimensions (age, income, credit size, annuity rate,
  price markup, the three EXT_SOURCE scores, region, registration date, ID delay, phone change,
  employment length, education, gender, car) with the sample's normal-score correlations; each
  dimension is mapped back through the sample's quantiles (or category/ordinal frequencies);
* structural rules of the real data: pensioners (by age and gender) and the unemployed carry
  DAYS_EMPLOYED = 365243, ORGANIZATION_TYPE "XNA", FLAG_EMP_PHONE = 0 and no occupation;
  AMT_GOODS_PRICE times a credit markup is AMT_CREDIT, AMT_ANNUITY is AMT_CREDIT times a monthly
  rate (5% on revolving loans); CNT_FAM_MEMBERS = children + 1 + partner; OWN_CAR_AGE exists iff
  the applicant owns a car; a region fixes REGION_RATING_CLIENT; IDs date from age 20 or 45;
* building statistics from a second copula (one latent per statistic, *_MEDI and *_MODE being
  noisy copies of *_AVG) and missing together: a building record exists for 53.5% of rows and
  its fields then go missing by a correlated, nested pattern;
* TARGET drawn from a logistic risk model on the latent (pre-masking) values: lower EXT_SOURCE_*,
  younger age, longer credit term, male, lower education, some income types and occupations,
  worse region rating, defaults in the social circle raise risk. The intercept is solved so the
  expected positive rate is TARGET_RATE. LightGBM on the result reaches a 5-fold CV AUC of
  about 0.75 on 40,000 rows and 0.77 on 307,511 (the range real application data gives), far
  from perfect: the oracle (true probability) AUC is about 0.78.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from contract import schema

#: Share of positives the generator aims at (full training set: 24,825 / 307,511;
#: the 5,000-row sample has 386, i.e. 7.7%).
TARGET_RATE = 0.0807
#: Row count of the real application_train.csv (the default size of a full synthetic set).
FULL_ROWS = 307_511

_FIRST_ID = 100_002
#: Share of id gaps: real ids run from 100002 to 456255 for 356,255 train + test rows.
_ID_GAP_SHARE = 0.16
#: Vocabulary values the sample never shows still occur, this rarely (e.g. CODE_GENDER "XNA",
#: 4 rows of 307,511; NAME_INCOME_TYPE "Student", 18 rows).
_ABSENT_SHARE = 1.5e-5
#: Missing rates the sample is too small to show (full-data counts out of 307,511 rows).
_FULL_DATA_MISSING = {
    "AMT_ANNUITY": 12 / 307_511,
    "CNT_FAM_MEMBERS": 2 / 307_511,
    "DAYS_LAST_PHONE_CHANGE": 1 / 307_511,
}
#: FLAG_MOBIL is 0 in one row of the full data.
_FLAG_MOBIL_ZERO = 1 / 307_511

# --------------------------------------------------------------------------------------------
# Calibration: numbers computed once from application_train_sample.csv (5,000 rows).
# --------------------------------------------------------------------------------------------

#: Probabilities at which the marginal quantiles below are tabulated.
_KNOT_PROBS: tuple[float, ...] = (
    0.0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6,
    0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995, 1.0,
)
#: Marginal quantiles at _KNOT_PROBS. Besides real columns: AMT_GOODS_PRICE and ANNUITY_RATE
#: (AMT_ANNUITY / AMT_CREDIT) are of cash loans, REVOLVING_CREDIT is AMT_CREDIT of revolving
#: ones, DAYS_EMPLOYED excludes the sentinel, ID_DELAY_* are described at _ID_MILESTONES_YEARS.
#: EXT_SOURCE_1 is inverse-probability weighted by its missing rate per age band (the old, who
#: score higher, lack it more often), so that the observed values come out as in the sample.
_QUANTILES: dict[str, tuple[float, ...]] = {
    "AMT_INCOME_TOTAL": (
        25650.0, 45000.0, 47250.0, 56250.0, 67500.0, 81000.0, 90000.0, 94500.0, 112500.0, 112500.0,
        121500.0, 135000.0, 135000.0, 144000.0, 157500.0, 157500.0, 180000.0, 180000.0, 202500.0,
        225000.0, 247500.0, 270000.0, 337500.0, 405000.0, 450180.0, 607610.0, 1935000.0,
    ),
    "AMT_GOODS_PRICE": (
        45000.0, 58500.0, 67500.0, 90000.0, 135000.0, 180000.0, 225000.0, 225000.0, 247500.0,
        294750.0, 360000.0, 450000.0, 450000.0, 454500.0, 486000.0, 585000.0, 675000.0, 675000.0,
        716620.0, 900000.0, 903380.0, 1125000.0, 1350000.0, 1486700.0, 1800000.0, 1819100.0,
        2254500.0,
    ),
    "REVOLVING_CREDIT": (
        135000.0, 135000.0, 135000.0, 135000.0, 135000.0, 157500.0, 180000.0, 180000.0, 180000.0,
        180000.0, 202500.0, 225000.0, 247500.0, 270000.0, 270000.0, 270000.0, 270000.0, 337500.0,
        365620.0, 405000.0, 450000.0, 540000.0, 675000.0, 896630.0, 1163300.0, 1350000.0,
        1350000.0,
    ),
    "ANNUITY_RATE": (
        0.025278, 0.026439, 0.02647, 0.0275, 0.029235, 0.029356, 0.03074, 0.032673, 0.036019,
        0.038185, 0.039912, 0.042597, 0.046491, 0.048336, 0.051046, 0.051864, 0.054597, 0.059055,
        0.065554, 0.071565, 0.0793, 0.097695, 0.10565, 0.1082, 0.11867, 0.11923, 0.12062,
    ),
    "DAYS_BIRTH": (
        -25160.0, -24696.0, -24485.0, -23706.0, -23090.0, -22149.0, -21244.0, -20338.0, -19571.0,
        -18782.0, -18000.0, -17205.0, -16489.0, -15808.0, -15122.0, -14496.0, -13885.0, -13228.0,
        -12450.0, -11786.0, -11041.0, -10245.0, -9361.1, -8655.9, -8219.8, -8038.0, -7705.0,
    ),
    "DAYS_EMPLOYED": (
        -15632.0, -11904.0, -10936.0, -8957.4, -7359.8, -5359.5, -4402.5, -3696.0, -3163.2,
        -2809.0, -2444.8, -2147.0, -1890.0, -1658.5, -1432.5, -1249.0, -1065.0, -903.0, -750.75,
        -590.0, -453.25, -328.0, -207.0, -153.0, -111.95, -96.0, -17.0,
    ),
    "DAYS_REGISTRATION": (
        -20981.0, -14499.0, -13804.0, -12754.0, -11506.0, -9979.7, -8967.4, -8168.0, -7481.2,
        -6763.3, -6104.0, -5512.8, -4957.2, -4544.0, -4077.2, -3522.6, -3025.0, -2515.8, -2003.0,
        -1460.6, -1040.6, -687.8, -318.95, -154.9, -60.97, -26.99, 0.0,
    ),
    "ID_DELAY_20": (
        0.0005071, 0.0012682, 0.0019991, 0.0039001, 0.007075, 0.011871, 0.016757, 0.023941,
        0.037281, 0.055607, 0.086468, 0.11716, 0.14784, 0.18001, 0.21465, 0.25455, 0.29896,
        0.34971, 0.43711, 0.52037, 0.63416, 0.75687, 0.88016, 0.94281, 0.9701, 0.98643, 0.99979,
    ),
    "ID_DELAY_EXCHANGE": (
        0.0, 0.032858, 0.046628, 0.1079, 0.15466, 0.19634, 0.21798, 0.23709, 0.25016, 0.26333,
        0.27293, 0.28603, 0.2964, 0.30845, 0.31863, 0.32913, 0.34143, 0.35472, 0.37588, 0.47123,
        0.58048, 0.69127, 0.82787, 0.90861, 0.95618, 0.97582, 0.99615,
    ),
    "ID_DELAY_45": (
        0.0, 0.0006131, 0.0011504, 0.0021095, 0.0037579, 0.0066754, 0.0091242, 0.011653, 0.015245,
        0.019161, 0.023885, 0.029569, 0.037096, 0.048094, 0.062222, 0.083501, 0.10855, 0.14195,
        0.18043, 0.22024, 0.26872, 0.37147, 0.57222, 0.77002, 0.91565, 0.94987, 1.0,
    ),
    "DAYS_LAST_PHONE_CHANGE": (
        -3882.0, -3297.0, -3096.1, -2770.1, -2504.1, -2144.0, -1860.0, -1705.2, -1550.0, -1421.3,
        -1241.4, -1070.0, -893.0, -747.5, -643.0, -549.0, -454.3, -358.0, -260.0, -151.0, -4.0,
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ),
    "OWN_CAR_AGE": (
        0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0, 6.0, 7.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        14.0, 15.0, 16.0, 18.0, 21.9, 27.0, 64.0, 65.0, 65.0, 65.0,
    ),
    "EXT_SOURCE_1": (
        0.024463, 0.070968, 0.088762, 0.12722, 0.18056, 0.24225, 0.28668, 0.33174, 0.37614,
        0.41602, 0.45606, 0.49442, 0.52841, 0.56133, 0.59125, 0.62147, 0.65446, 0.68255, 0.71533,
        0.73987, 0.77148, 0.80953, 0.85376, 0.87364, 0.89949, 0.91139, 0.92939,
    ),
    "EXT_SOURCE_2": (
        0.00025558, 0.016138, 0.031604, 0.072064, 0.13837, 0.22264, 0.2859, 0.3381, 0.39107,
        0.43704, 0.48065, 0.51001, 0.54009, 0.56583, 0.58668, 0.60689, 0.62634, 0.64565, 0.66438,
        0.68225, 0.70135, 0.72072, 0.74735, 0.76402, 0.78138, 0.79056, 0.855,
    ),
    "EXT_SOURCE_3": (
        0.00052727, 0.0021618, 0.060444, 0.098095, 0.15009, 0.22383, 0.27934, 0.32966, 0.37233,
        0.4101, 0.44362, 0.47405, 0.50468, 0.52989, 0.55851, 0.59023, 0.61953, 0.64468, 0.67224,
        0.69562, 0.72239, 0.75118, 0.78988, 0.81326, 0.83478, 0.84824, 0.88253,
    ),
    "APARTMENTS_AVG": (
        0.0, 0.00056, 0.0021, 0.0082, 0.0093, 0.0186, 0.0309, 0.0454, 0.0588, 0.0629, 0.0722,
        0.0773, 0.0825, 0.0866, 0.0934, 0.1031, 0.1175, 0.1253, 0.1474, 0.16556, 0.20354, 0.2433,
        0.33794, 0.41484, 0.5443, 0.62838, 1.0,
    ),
    "BASEMENTAREA_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.01861, 0.03334, 0.0444, 0.05262, 0.05859, 0.06376, 0.06956,
        0.0756, 0.0805, 0.08628, 0.09492, 0.103, 0.1128, 0.12562, 0.14378, 0.1761, 0.23117, 0.3038,
        0.40892, 0.45166, 1.0,
    ),
    "YEARS_BEGINEXPLUATATION_AVG": (
        0.0, 0.93539, 0.95079, 0.9593, 0.9692, 0.9727, 0.9742, 0.9757, 0.9767, 0.9776, 0.9786,
        0.9801, 0.9806, 0.9816, 0.9826, 0.9836, 0.9846, 0.9856, 0.9866, 0.9876, 0.9891, 0.9911,
        0.9955, 0.9975, 0.9985, 0.999, 0.9995,
    ),
    "YEARS_BUILD_AVG": (
        0.0, 0.31419, 0.3404, 0.49, 0.592, 0.6328, 0.6532, 0.6668, 0.6872, 0.7008, 0.7144, 0.728,
        0.7416, 0.7552, 0.7688, 0.7824, 0.796, 0.8096, 0.8164, 0.83, 0.8504, 0.8776, 0.9456,
        0.9728, 0.9864, 0.9864, 1.0,
    ),
    "COMMONAREA_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0022, 0.0045, 0.0071, 0.0086, 0.01048, 0.0128, 0.0152,
        0.0187, 0.02294, 0.0277, 0.0329, 0.0405, 0.0491, 0.05998, 0.07458, 0.10856, 0.16726,
        0.2628, 0.37741, 0.47932, 1.0,
    ),
    "ELEVATORS_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.04, 0.08,
        0.12, 0.16, 0.2, 0.24, 0.36, 0.48, 0.64, 0.6804, 1.0,
    ),
    "ENTRANCES_AVG": (
        0.0, 0.0345, 0.0345, 0.0345, 0.0345, 0.0473, 0.069, 0.069, 0.069, 0.1034, 0.1034, 0.1034,
        0.1379, 0.1379, 0.1379, 0.1379, 0.1607, 0.1724, 0.2069, 0.2069, 0.20759, 0.2759, 0.3276,
        0.4138, 0.53583, 0.6207, 1.0,
    ),
    "FLOORSMAX_AVG": (
        0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0833, 0.125, 0.1667, 0.1667, 0.1667, 0.1667,
        0.1667, 0.1667, 0.1667, 0.1667, 0.2358, 0.3333, 0.3333, 0.3333, 0.3333, 0.375, 0.5417,
        0.625, 0.6667, 0.8125, 1.0,
    ),
    "FLOORSMIN_AVG": (
        0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0417, 0.0833, 0.125, 0.1667, 0.2083, 0.2083,
        0.2083, 0.2083, 0.2083, 0.2083, 0.2083, 0.3333, 0.375, 0.375, 0.375, 0.4167, 0.5169,
        0.6667, 0.7083, 0.7083, 1.0,
    ),
    "LANDAREA_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.007185, 0.0138, 0.0187, 0.02354, 0.0298, 0.0361, 0.041355,
        0.0477, 0.053645, 0.0603, 0.06827, 0.07763, 0.088325, 0.1007, 0.11583, 0.14495, 0.20117,
        0.27596, 0.39961, 0.50399, 1.0,
    ),
    "LIVINGAPARTMENTS_AVG": (
        0.0, 0.0, 0.001964, 0.0067, 0.0101, 0.0202, 0.0303, 0.04394, 0.0504, 0.0555, 0.059295,
        0.0656, 0.0672, 0.0748, 0.0815, 0.0883, 0.0975, 0.10348, 0.1202, 0.13652, 0.17234, 0.21156,
        0.29647, 0.3589, 0.4528, 0.51124, 0.8338,
    ),
    "LIVINGAREA_AVG": (
        0.0, 0.0012685, 0.002537, 0.0052425, 0.0085, 0.0151, 0.026555, 0.0391, 0.0476, 0.05282,
        0.0588, 0.0637, 0.0681, 0.0747, 0.082935, 0.08902, 0.0976, 0.11166, 0.12745, 0.15266,
        0.19303, 0.24049, 0.32872, 0.42726, 0.58975, 0.7114, 1.0,
    ),
    "NONLIVINGAPARTMENTS_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0019, 0.0039,
        0.0039, 0.0039, 0.0077, 0.0116, 0.0154, 0.0309, 0.0579, 0.12044, 0.19763, 1.0,
    ),
    "NONLIVINGAREA_AVG": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0018, 0.0038, 0.0057, 0.0085,
        0.0132, 0.01894, 0.02675, 0.03716, 0.0534, 0.08154, 0.12576, 0.19315, 0.31332, 0.40365,
        1.0,
    ),
    "APARTMENTS_MODE": (
        0.0, 0.0, 0.0021, 0.0063, 0.0084, 0.0168, 0.0263, 0.0399, 0.0525, 0.063, 0.0685, 0.0746,
        0.0819, 0.084, 0.0945, 0.1029, 0.1134, 0.125, 0.1366, 0.1586, 0.19662, 0.23508, 0.3393,
        0.4128, 0.53545, 0.58961, 1.0,
    ),
    "BASEMENTAREA_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.01048, 0.03088, 0.04055, 0.05002, 0.05719, 0.0633, 0.0682,
        0.0744, 0.08087, 0.08504, 0.0925, 0.10298, 0.1123, 0.12472, 0.14499, 0.17746, 0.23536,
        0.30521, 0.40721, 0.46869, 1.0,
    ),
    "YEARS_BEGINEXPLUATATION_MODE": (
        0.0, 0.93348, 0.95029, 0.9588, 0.9692, 0.9722, 0.9737, 0.9752, 0.9762, 0.9777, 0.9786,
        0.9796, 0.9806, 0.9816, 0.9826, 0.9836, 0.9846, 0.9856, 0.9866, 0.9876, 0.9886, 0.9906,
        0.996, 0.9975, 0.999, 0.999, 1.0,
    ),
    "YEARS_BUILD_MODE": (
        0.0, 0.32515, 0.3662, 0.4969, 0.60239, 0.6406, 0.6602, 0.6798, 0.6929, 0.7125, 0.7256,
        0.7387, 0.7452, 0.7583, 0.77559, 0.7844, 0.7975, 0.8105, 0.8236, 0.8367, 0.8563, 0.8824,
        0.9543, 0.9739, 0.9869, 0.9869, 1.0,
    ),
    "COMMONAREA_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0016, 0.00366, 0.0066, 0.00814, 0.00978, 0.0119, 0.0141,
        0.0169, 0.02154, 0.02648, 0.03132, 0.0372, 0.0467, 0.0564, 0.0722, 0.09874, 0.15816,
        0.24802, 0.34823, 0.47342, 1.0,
    ),
    "ELEVATORS_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0403,
        0.0806, 0.1208, 0.1611, 0.2014, 0.2417, 0.3625, 0.4834, 0.6042, 0.6445, 1.0,
    ),
    "ENTRANCES_MODE": (
        0.0, 0.0345, 0.0345, 0.0345, 0.0345, 0.0345, 0.069, 0.069, 0.069, 0.1034, 0.1034, 0.1034,
        0.1379, 0.1379, 0.1379, 0.1379, 0.1379, 0.1724, 0.2069, 0.2069, 0.2069, 0.2759, 0.3103,
        0.4138, 0.53583, 0.6207, 1.0,
    ),
    "FLOORSMAX_MODE": (
        0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0833, 0.125, 0.1667, 0.1667, 0.1667, 0.1667,
        0.1667, 0.1667, 0.1667, 0.1667, 0.2083, 0.3333, 0.3333, 0.3333, 0.3333, 0.375, 0.5417,
        0.625, 0.6667, 0.75, 1.0,
    ),
    "FLOORSMIN_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0417, 0.0833, 0.1667, 0.2083, 0.2083, 0.2083,
        0.2083, 0.2083, 0.2083, 0.2083, 0.3333, 0.375, 0.375, 0.375, 0.4167, 0.5, 0.6667, 0.7083,
        0.7083, 1.0,
    ),
    "LANDAREA_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.004185, 0.0118, 0.0166, 0.021, 0.0269, 0.03316, 0.0389,
        0.0447, 0.0521, 0.0582, 0.0668, 0.07596, 0.087225, 0.09908, 0.11526, 0.14591, 0.20298,
        0.27871, 0.40671, 0.51549, 1.0,
    ),
    "LIVINGAPARTMENTS_MODE": (
        0.0, 0.0, 0.0018, 0.0073, 0.011, 0.0202, 0.0321, 0.0441, 0.054425, 0.0588, 0.0643, 0.067,
        0.0735, 0.07665, 0.0826, 0.0918, 0.099605, 0.1093, 0.123, 0.14176, 0.1763, 0.2137, 0.3113,
        0.381, 0.48421, 0.53265, 0.9109,
    ),
    "LIVINGAREA_MODE": (
        0.0, 0.0008055, 0.0021, 0.0047, 0.008085, 0.01397, 0.024355, 0.03544, 0.0459, 0.05262,
        0.0567, 0.06378, 0.067665, 0.0732, 0.080535, 0.0888, 0.0952, 0.10749, 0.12187, 0.14706,
        0.18814, 0.23949, 0.33618, 0.43307, 0.57287, 0.64829, 1.0,
    ),
    "NONLIVINGAPARTMENTS_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0039,
        0.0039, 0.0039, 0.0078, 0.0078, 0.0156, 0.0272, 0.0545, 0.11744, 0.19496, 1.0,
    ),
    "NONLIVINGAREA_MODE": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0014, 0.0041, 0.00602,
        0.00973, 0.0157, 0.02355, 0.0332, 0.04977, 0.07424, 0.12848, 0.1949, 0.32158, 0.39109, 1.0,
    ),
    "APARTMENTS_MEDI": (
        0.0, 0.00056, 0.0021, 0.0083, 0.0094, 0.0177, 0.031, 0.0458, 0.0593, 0.063, 0.0729, 0.077,
        0.0833, 0.0874, 0.0937, 0.1041, 0.1166, 0.1249, 0.1478, 0.1665, 0.2053, 0.2465, 0.34374,
        0.41886, 0.5496, 0.63448, 1.0,
    ),
    "BASEMENTAREA_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.01811, 0.0328, 0.04415, 0.05262, 0.0586, 0.06376, 0.06956,
        0.0755, 0.08027, 0.08544, 0.0945, 0.10286, 0.1126, 0.12524, 0.14378, 0.1755, 0.22992,
        0.30377, 0.40533, 0.45166, 1.0,
    ),
    "YEARS_BEGINEXPLUATATION_MEDI": (
        0.0, 0.94137, 0.9513, 0.9598, 0.96968, 0.9727, 0.9742, 0.9757, 0.9767, 0.9776, 0.9786,
        0.9801, 0.9806, 0.9816, 0.9826, 0.9836, 0.9846, 0.9856, 0.9866, 0.9876, 0.9891, 0.9911,
        0.996, 0.9975, 0.9985, 0.999, 0.9995,
    ),
    "YEARS_BUILD_MEDI": (
        0.0, 0.32337, 0.3492, 0.4968, 0.5975, 0.6377, 0.6578, 0.6713, 0.6914, 0.7048, 0.7182,
        0.7316, 0.7451, 0.7585, 0.7719, 0.7853, 0.7987, 0.8121, 0.8256, 0.839, 0.8524, 0.88389,
        0.953, 0.9732, 0.9866, 0.9866, 1.0,
    ),
    "COMMONAREA_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.00212, 0.0044, 0.0071, 0.0086, 0.0105, 0.0128, 0.0151,
        0.0185, 0.023, 0.02788, 0.03322, 0.04046, 0.0492, 0.06052, 0.07526, 0.10968, 0.16922,
        0.2645, 0.37981, 0.51529, 1.0,
    ),
    "ELEVATORS_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.04, 0.08,
        0.12, 0.16, 0.2, 0.24, 0.36, 0.48, 0.64, 0.6804, 1.0,
    ),
    "ENTRANCES_MEDI": (
        0.0, 0.0345, 0.0345, 0.0345, 0.0345, 0.0345, 0.069, 0.069, 0.069, 0.1034, 0.1034, 0.1034,
        0.1379, 0.1379, 0.1379, 0.1379, 0.1552, 0.1724, 0.2069, 0.2069, 0.2069, 0.2759, 0.3276,
        0.4138, 0.53583, 0.6207, 1.0,
    ),
    "FLOORSMAX_MEDI": (
        0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0833, 0.125, 0.1667, 0.1667, 0.1667, 0.1667,
        0.1667, 0.1667, 0.1667, 0.1667, 0.2292, 0.3333, 0.3333, 0.3333, 0.3333, 0.375, 0.5417,
        0.625, 0.6667, 0.8125, 1.0,
    ),
    "FLOORSMIN_MEDI": (
        0.0, 0.0, 0.0, 0.0417, 0.0417, 0.0417, 0.0417, 0.0833, 0.125, 0.1667, 0.2083, 0.2083,
        0.2083, 0.2083, 0.2083, 0.2083, 0.2083, 0.375, 0.375, 0.375, 0.375, 0.4167, 0.5208, 0.6667,
        0.7083, 0.7083, 1.0,
    ),
    "LANDAREA_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0072, 0.0137, 0.0188, 0.02331, 0.0297, 0.03626, 0.0416,
        0.0483, 0.054345, 0.0613, 0.069335, 0.07876, 0.0891, 0.10216, 0.1171, 0.14754, 0.20619,
        0.28076, 0.40997, 0.51279, 1.0,
    ),
    "LIVINGAPARTMENTS_MEDI": (
        0.0, 0.0, 0.0017, 0.0068, 0.0103, 0.0205, 0.0308, 0.04474, 0.0513, 0.05596, 0.0599, 0.0667,
        0.0684, 0.0761, 0.0821, 0.0893, 0.0983, 0.1026, 0.12208, 0.1385, 0.17534, 0.21538, 0.3016,
        0.3651, 0.46064, 0.5201, 0.8482,
    ),
    "LIVINGAREA_MEDI": (
        0.0, 0.001137, 0.0026, 0.0053, 0.0086, 0.0152, 0.0269, 0.0392, 0.0485, 0.0537, 0.059695,
        0.0646, 0.069365, 0.07535, 0.084135, 0.09042, 0.099105, 0.11278, 0.129, 0.15526, 0.19702,
        0.24456, 0.33639, 0.43496, 0.60032, 0.7242, 1.0,
    ),
    "NONLIVINGAPARTMENTS_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0039,
        0.0039, 0.0039, 0.0078, 0.0116, 0.0155, 0.031, 0.060052, 0.12104, 0.19873, 1.0,
    ),
    "NONLIVINGAREA_MEDI": (
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0012, 0.0035, 0.00531,
        0.0081, 0.01223, 0.01808, 0.0264, 0.0372, 0.05391, 0.08202, 0.12959, 0.19788, 0.31992,
        0.4121, 1.0,
    ),
    "TOTALAREA_MODE": (
        0.0, 0.001316, 0.002, 0.00418, 0.00716, 0.013, 0.02158, 0.03464, 0.0425, 0.04926, 0.05362,
        0.0572, 0.06284, 0.0684, 0.07366, 0.0817, 0.09188, 0.10418, 0.1237, 0.16002, 0.1897,
        0.23132, 0.3054, 0.40808, 0.55103, 0.65078, 1.0,
    ),
}
#: Missing rates of the sample; _BUILDING_MISSING per building statistic (its *_AVG, *_MODE and
#: *_MEDI always go missing together).
_SAMPLE_MISSING: dict[str, float] = {
    "AMT_ANNUITY": 0.0, "AMT_GOODS_PRICE": 0.0002, "NAME_TYPE_SUITE": 0.004, "OWN_CAR_AGE": 0.6616,
    "OCCUPATION_TYPE": 0.309, "CNT_FAM_MEMBERS": 0.0, "EXT_SOURCE_1": 0.5654,
    "EXT_SOURCE_2": 0.0032, "EXT_SOURCE_3": 0.195, "TOTALAREA_MODE": 0.4734,
    "OBS_30_CNT_SOCIAL_CIRCLE": 0.0046, "DEF_30_CNT_SOCIAL_CIRCLE": 0.0046,
    "OBS_60_CNT_SOCIAL_CIRCLE": 0.0046, "DEF_60_CNT_SOCIAL_CIRCLE": 0.0046,
    "DAYS_LAST_PHONE_CHANGE": 0.0, "AMT_REQ_CREDIT_BUREAU_HOUR": 0.135,
    "AMT_REQ_CREDIT_BUREAU_DAY": 0.135, "AMT_REQ_CREDIT_BUREAU_WEEK": 0.135,
    "AMT_REQ_CREDIT_BUREAU_MON": 0.135, "AMT_REQ_CREDIT_BUREAU_QRT": 0.135,
    "AMT_REQ_CREDIT_BUREAU_YEAR": 0.135, "FONDKAPREMONT_MODE": 0.6702, "HOUSETYPE_MODE": 0.4896,
    "WALLSMATERIAL_MODE": 0.4966, "EMERGENCYSTATE_MODE": 0.4648,
}
_BUILDING_MISSING: dict[str, float] = {
    "APARTMENTS": 0.4974, "BASEMENTAREA": 0.573, "YEARS_BEGINEXPLUATATION": 0.48,
    "YEARS_BUILD": 0.6512, "COMMONAREA": 0.6862, "ELEVATORS": 0.5202, "ENTRANCES": 0.4906,
    "FLOORSMAX": 0.4848, "FLOORSMIN": 0.668, "LANDAREA": 0.58, "LIVINGAPARTMENTS": 0.6732,
    "LIVINGAREA": 0.4924, "NONLIVINGAPARTMENTS": 0.6836, "NONLIVINGAREA": 0.5354,
}
#: Category counts of the sample (missing values not counted).
_CATEGORY_COUNTS: dict[str, dict[str, int]] = {
    "NAME_CONTRACT_TYPE": {"Cash loans": 4516, "Revolving loans": 484},
    "CODE_GENDER": {"F": 3301, "M": 1699},
    "FLAG_OWN_CAR": {"N": 3308, "Y": 1692},
    "FLAG_OWN_REALTY": {"Y": 3500, "N": 1500},
    "NAME_TYPE_SUITE": {
        "Unaccompanied": 4040, "Family": 660, "Spouse, partner": 182, "Children": 49,
        "Other_B": 31, "Other_A": 12, "Group of people": 6,
    },
    "NAME_INCOME_TYPE": {
        "Working": 2607, "Commercial associate": 1174, "Pensioner": 902, "State servant": 315,
        "Unemployed": 2,
    },
    "NAME_EDUCATION_TYPE": {
        "Secondary / secondary special": 3575, "Higher education": 1200, "Incomplete higher": 163,
        "Lower secondary": 57, "Academic degree": 5,
    },
    "NAME_FAMILY_STATUS": {
        "Married": 3185, "Single / not married": 735, "Civil marriage": 467, "Separated": 321,
        "Widow": 292,
    },
    "NAME_HOUSING_TYPE": {
        "House / apartment": 4435, "With parents": 227, "Municipal apartment": 192,
        "Rented apartment": 85, "Office apartment": 39, "Co-op apartment": 22,
    },
    "OCCUPATION_TYPE": {
        "Laborers": 861, "Sales staff": 550, "Core staff": 469, "Drivers": 318, "Managers": 312,
        "High skill tech staff": 187, "Accountants": 167, "Medicine staff": 146,
        "Security staff": 110, "Cooking staff": 100, "Cleaning staff": 66,
        "Private service staff": 45, "Low-skill Laborers": 44, "Secretaries": 29,
        "Waiters/barmen staff": 19, "Realty agents": 14, "HR staff": 12, "IT staff": 6,
    },
    "WEEKDAY_APPR_PROCESS_START": {
        "TUESDAY": 874, "THURSDAY": 833, "WEDNESDAY": 833, "MONDAY": 824, "FRIDAY": 814,
        "SATURDAY": 552, "SUNDAY": 270,
    },
    "ORGANIZATION_TYPE": {
        "Business Entity Type 3": 1116, "XNA": 904, "Self-employed": 659, "Other": 285,
        "Medicine": 182, "Government": 170, "Business Entity Type 2": 154, "School": 128,
        "Kindergarten": 111, "Trade: type 7": 107, "Construction": 95, "Transport: type 4": 85,
        "Business Entity Type 1": 79, "Housing": 59, "Industry: type 3": 58, "Trade: type 3": 57,
        "Industry: type 11": 53, "Industry: type 9": 52, "Transport: type 2": 48, "Security": 44,
        "Services": 41, "Bank": 40, "Agriculture": 37, "Military": 37, "Postal": 36,
        "Security Ministries": 32, "Police": 32, "Trade: type 2": 28, "Restaurant": 23,
        "Transport: type 3": 23, "University": 20, "Industry: type 1": 19, "Hotel": 18,
        "Industry: type 7": 18, "Electricity": 14, "Emergency": 13, "Trade: type 6": 12,
        "Insurance": 11, "Industry: type 12": 11, "Industry: type 5": 9, "Industry: type 4": 9,
        "Industry: type 2": 8, "Advertising": 7, "Telecom": 7, "Mobile": 7, "Legal Services": 6,
        "Trade: type 1": 5, "Industry: type 10": 5, "Realtor": 4, "Culture": 4,
        "Industry: type 13": 4, "Cleaning": 3, "Transport: type 1": 3, "Trade: type 5": 3,
        "Religion": 2, "Trade: type 4": 1, "Industry: type 8": 1, "Industry: type 6": 1,
    },
    "FONDKAPREMONT_MODE": {
        "reg oper account": 1265, "reg oper spec account": 199, "org spec account": 97,
        "not specified": 88,
    },
    "HOUSETYPE_MODE": {"block of flats": 2509, "terraced house": 22, "specific housing": 21},
    "WALLSMATERIAL_MODE": {
        "Panel": 1103, "Stone, brick": 1057, "Block": 178, "Wooden": 86, "Mixed": 41,
        "Monolithic": 28, "Others": 24,
    },
    "EMERGENCYSTATE_MODE": {"No": 2637, "Yes": 39},
}
#: (REGION_POPULATION_RELATIVE, rows in the sample, REGION_RATING_CLIENT) per region,
#: from the worst rating to the best, then by population: the REGION latent's order.
_REGIONS: tuple[tuple[float, int, int], ...] = (
    (0.000938, 1, 3), (0.001333, 4, 3), (0.002042, 20, 3), (0.002134, 14, 3), (0.003069, 31, 3),
    (0.003122, 20, 3), (0.005002, 21, 3), (0.006296, 16, 3), (0.006305, 33, 3), (0.006852, 34, 3),
    (0.007305, 28, 3), (0.008068, 23, 3), (0.0105, 46, 3), (0.010556, 34, 3), (0.018029, 112, 3),
    (0.018209, 92, 3), (0.020246, 123, 3), (0.020713, 123, 3), (0.001276, 7, 2), (0.001417, 9, 2),
    (0.002506, 20, 2), (0.003813, 24, 2), (0.003818, 25, 2), (0.004849, 15, 2), (0.00496, 56, 2),
    (0.005084, 19, 2), (0.005144, 13, 2), (0.005313, 16, 2), (0.006008, 35, 2), (0.006207, 31, 2),
    (0.006233, 18, 2), (0.006629, 38, 2), (0.006671, 22, 2), (0.00702, 64, 2), (0.007114, 26, 2),
    (0.00712, 42, 2), (0.007274, 30, 2), (0.00733, 51, 2), (0.008019, 39, 2), (0.00823, 39, 2),
    (0.008474, 24, 2), (0.008575, 32, 2), (0.008625, 34, 2), (0.008866, 21, 2), (0.009175, 46, 2),
    (0.009334, 45, 2), (0.009549, 27, 2), (0.00963, 39, 2), (0.009657, 43, 2), (0.010006, 69, 2),
    (0.010032, 55, 2), (0.010147, 52, 2), (0.010276, 44, 2), (0.010643, 44, 2), (0.010966, 55, 2),
    (0.011703, 40, 2), (0.014464, 42, 2), (0.01452, 97, 2), (0.015221, 111, 2), (0.016612, 82, 2),
    (0.018634, 113, 2), (0.018801, 103, 2), (0.01885, 130, 2), (0.019101, 140, 2),
    (0.019689, 108, 2), (0.022625, 101, 2), (0.0228, 54, 2), (0.02461, 120, 2), (0.025164, 203, 2),
    (0.026392, 191, 2), (0.028663, 197, 2), (0.030755, 189, 2), (0.031329, 157, 2),
    (0.035792, 237, 2), (0.003541, 5, 1), (0.011657, 47, 1), (0.032561, 117, 1), (0.04622, 216, 1),
    (0.072508, 156, 1),
)
#: Share of pensioners by age band (years; edges below) for women and men.
_PENSION_AGE_EDGES: tuple[float, ...] = (40, 45, 50, 52.5, 55, 57, 58, 59, 60, 62, 65)
_PENSIONER_SHARE_F: tuple[float, ...] = (
    0.002, 0.014, 0.022, 0.085, 0.188, 0.633, 0.649, 0.753, 0.81, 0.852, 0.832, 0.968,
)
_PENSIONER_SHARE_M: tuple[float, ...] = (
    0.011, 0.031, 0.069, 0.046, 0.105, 0.222, 0.261, 0.381, 0.333, 0.72, 0.816, 0.864,
)
#: EXT_SOURCE_1 missing rate by age band.
_EXT1_AGE_EDGES: tuple[float, ...] = (30, 40, 50, 60)
_EXT1_MISSING_BY_AGE: tuple[float, ...] = (0.429, 0.436, 0.585, 0.672, 0.793)
#: NAME_FAMILY_STATUS counts by age band.
_FAMILY_AGE_EDGES: tuple[float, ...] = (25, 30, 40, 50, 60)
_FAMILY_BY_AGE: dict[str, tuple[int, ...]] = {
    "Civil marriage": (36, 61, 142, 118, 83, 27), "Married": (62, 307, 906, 899, 712, 299),
    "Separated": (2, 18, 76, 113, 81, 31), "Single / not married": (108, 135, 179, 132, 116, 65),
    "Widow": (0, 0, 11, 38, 104, 139),
}
#: CNT_CHILDREN counts (0, 1, 2, 3, 4+) by age band, for couples (married or civil marriage)
#: and for the others; then how 4+ splits. NAME_HOUSING_TYPE counts by the same bands.
_CHILD_AGE_EDGES: tuple[float, ...] = (30, 40, 50)
_CHILDREN_COUPLE: tuple[tuple[int, ...], ...] = (
    (251, 153, 53, 8, 1), (416, 378, 211, 37, 6), (658, 258, 82, 17, 2), (1069, 47, 5, 0, 0),
)
_CHILDREN_SINGLE: tuple[tuple[int, ...], ...] = (
    (228, 31, 4, 0, 0), (170, 73, 21, 2, 0), (209, 61, 12, 1, 0), (518, 17, 1, 0, 0),
)
_CHILDREN_4PLUS: dict[int, int] = {4: 7, 5: 1, 7: 1}
_HOUSING_BY_AGE: dict[str, tuple[int, ...]] = {
    "Co-op apartment": (6, 6, 5, 5), "House / apartment": (537, 1159, 1188, 1551),
    "Municipal apartment": (26, 32, 55, 79), "Office apartment": (11, 13, 8, 7),
    "Rented apartment": (30, 28, 23, 4), "With parents": (119, 76, 21, 11),
}
#: Joint patterns of the six address-mismatch flags (schema order), for the employed and for
#: the sentinel group (pensioners, unemployed); then contact flags and the (single) document.
_ADDRESS_PATTERNS_EMPLOYED: dict[str, int] = {
    "000000": 2804, "000011": 709, "000110": 270, "011011": 101, "011000": 61, "110110": 52,
    "000111": 32, "000101": 20, "110000": 11, "110111": 8, "111111": 7, "011111": 5, "011100": 4,
    "101000": 3, "101101": 2, "101010": 2, "101111": 2, "111100": 1, "111000": 1, "110001": 1,
}
_ADDRESS_PATTERNS_SENTINEL: dict[str, int] = {
    "000000": 876, "000100": 23, "100000": 3, "100100": 2,
}
_FLAG_RATES_EMPLOYED: dict[str, float] = {
    "FLAG_WORK_PHONE": 0.2439, "FLAG_CONT_MOBILE": 0.9976, "FLAG_PHONE": 0.2744,
    "FLAG_EMAIL": 0.0623,
}
_FLAG_RATES_SENTINEL: dict[str, float] = {
    "FLAG_WORK_PHONE": 0.0, "FLAG_CONT_MOBILE": 1.0, "FLAG_PHONE": 0.3042, "FLAG_EMAIL": 0.0254,
}
#: Which FLAG_DOCUMENT_<k> is set (0: none); 2% of sample rows have two, kept as one here.
_DOCUMENTS_EMPLOYED: dict[int, int] = {
    3: 3107, 5: 71, 6: 30, 8: 403, 9: 20, 11: 20, 13: 10, 14: 11, 15: 4, 16: 46, 17: 1, 18: 30,
    19: 2, 20: 3, 21: 2, 0: 336,
}
_DOCUMENTS_SENTINEL: dict[int, int] = {3: 438, 5: 7, 6: 392, 8: 9, 16: 1, 18: 1, 0: 56}
#: Value counts of count-like fields.
_COUNT_TABLES: dict[str, dict[int, int]] = {
    "AMT_REQ_CREDIT_BUREAU_HOUR": {0: 4288, 1: 36, 2: 1},
    "AMT_REQ_CREDIT_BUREAU_DAY": {0: 4298, 1: 23, 2: 1, 3: 1, 4: 2},
    "AMT_REQ_CREDIT_BUREAU_WEEK": {0: 4178, 1: 143, 2: 1, 3: 3},
    "AMT_REQ_CREDIT_BUREAU_MON": {
        0: 3628, 1: 530, 2: 76, 3: 36, 4: 20, 5: 9, 6: 3, 7: 5, 8: 6, 9: 4, 11: 4, 12: 1, 14: 1,
        16: 2,
    },
    "AMT_REQ_CREDIT_BUREAU_QRT": {0: 3453, 1: 608, 2: 218, 3: 34, 4: 10, 5: 1, 8: 1},
    "AMT_REQ_CREDIT_BUREAU_YEAR": {
        0: 1161, 1: 1063, 2: 803, 3: 561, 4: 335, 5: 188, 6: 95, 7: 67, 8: 34, 9: 15, 10: 1, 11: 2,
    },
    "OBS_30_CNT_SOCIAL_CIRCLE": {
        0: 2696, 1: 764, 2: 460, 3: 334, 4: 245, 5: 160, 6: 123, 7: 61, 8: 39, 9: 39, 10: 21,
        11: 15, 12: 7, 13: 5, 14: 4, 15: 1, 16: 1, 22: 2,
    },
    "HOUR_APPR_PROCESS_START": {
        1: 2, 2: 8, 3: 21, 4: 25, 5: 58, 6: 90, 7: 149, 8: 245, 9: 436, 10: 608, 11: 634, 12: 561,
        13: 485, 14: 464, 15: 416, 16: 338, 17: 235, 18: 146, 19: 51, 20: 17, 21: 6, 22: 5,
    },
}
#: AMT_CREDIT / AMT_GOODS_PRICE of cash loans (values seen at least 5 times: 99% of loans).
_MARKUPS: dict[float, int] = {
    1.0: 1317, 1.1584: 385, 1.198: 376, 1.1188: 302, 1.132: 220, 1.2112: 194, 1.3168: 167,
    1.396: 157, 1.1452: 149, 1.1056: 148, 1.264: 140, 1.2376: 115, 1.0792: 110, 1.066: 99,
    1.4224: 88, 1.0871: 55, 1.2574: 42, 1.0528: 39, 1.099: 37, 1.528: 37, 1.2772: 32, 1.1162: 29,
    1.1386: 24, 1.1716: 23, 1.2244: 21, 1.2178: 20, 1.095: 20, 1.0594: 20, 1.1663: 18, 1.3366: 16,
    1.0396: 15, 1.0581: 11, 1.4752: 10, 1.0713: 10, 1.2218: 8, 1.0858: 8, 1.1782: 7, 1.3432: 6,
    1.0436: 6,
}
#: Share of men per occupation; occupations are drawn given the applicant's gender.
_OCCUPATION_SHARE_MALE: dict[str, float] = {
    "Accountants": 0.042, "Cleaning staff": 0.091, "Cooking staff": 0.11, "Core staff": 0.192,
    "Drivers": 0.947, "HR staff": 0.083, "High skill tech staff": 0.358, "IT staff": 0.833,
    "Laborers": 0.567, "Low-skill Laborers": 0.841, "Managers": 0.545, "Medicine staff": 0.007,
    "Private service staff": 0.044, "Realty agents": 0.0, "Sales staff": 0.104,
    "Secretaries": 0.034, "Security staff": 0.664, "Waiters/barmen staff": 0.158,
}
#: OCCUPATION_TYPE missing among the employed; social circle: defaults per observed contact
#: (DEF_30 ~ Binomial(OBS_30, p)), 60- per 30-day defaults, share of OBS_60 == OBS_30.
_OCCUPATION_MISSING_EMPLOYED = 0.1565
_DEF30_PER_OBS30 = 0.1066
_DEF60_PER_DEF30 = 0.6896
_OBS60_EQUALS_OBS30 = 0.9873
#: Latent (normal-score) dimensions of the applicant copula, and their correlations
#: (lower triangle; point-biserial correlations of the flags corrected to latent ones).
_CORE: tuple[str, ...] = (
    "DAYS_BIRTH", "AMT_INCOME_TOTAL", "CREDIT_SIZE", "ANNUITY_RATE", "MARKUP", "EXT_SOURCE_1",
    "EXT_SOURCE_2", "EXT_SOURCE_3", "REGION", "DAYS_REGISTRATION", "ID_DELAY",
    "DAYS_LAST_PHONE_CHANGE", "DAYS_EMPLOYED", "EDUCATION", "MALE", "OWN_CAR",
)
_CORE_CORRELATION: tuple[tuple[float, ...], ...] = (
    (0.13,),
    (-0.06, 0.45),
    (0.12, -0.12, -0.67),
    (0.02, -0.07, -0.17, -0.1),
    (-0.61, 0.07, 0.2, -0.16, -0.06),
    (-0.1, 0.18, 0.16, -0.09, -0.07, 0.21),
    (-0.25, -0.1, 0.04, -0.04, -0.05, 0.18, 0.12),
    (-0.01, 0.17, 0.1, -0.02, -0.08, 0.08, 0.28, 0.01),
    (0.31, 0.11, 0.02, 0.02, -0.03, -0.17, -0.08, -0.1, -0.06),
    (-0.08, 0.02, 0.01, -0.02, 0.03, 0.01, -0.01, -0.06, 0.02, 0.07),
    (0.09, -0.03, -0.06, 0.02, 0.06, -0.14, -0.18, -0.05, -0.05, 0.05, 0.02),
    (0.32, -0.05, -0.12, 0.11, 0.04, -0.24, -0.12, -0.13, -0.01, 0.11, 0.01, 0.15),
    (0.15, 0.26, 0.16, -0.06, -0.1, 0.12, 0.14, -0.03, 0.06, 0.11, -0.02, -0.01, -0.01),
    (0.19, 0.29, 0.02, 0.1, -0.02, -0.37, -0.01, -0.02, 0.05, 0.1, -0.07, 0.01, 0.13, -0.03),
    (0.13, 0.3, 0.15, -0.01, -0.06, -0.1, 0.07, -0.0, 0.06, 0.1, -0.01, -0.07, 0.03, 0.13, 0.54),
)
#: Correlations of the building statistics (normal scores of *_AVG, then TOTALAREA_MODE).
_BUILDING_CORRELATION: tuple[tuple[float, ...], ...] = (
    (0.72,),
    (0.44, 0.33),
    (0.45, 0.34, 0.97),
    (0.54, 0.49, 0.32, 0.33),
    (0.7, 0.5, 0.45, 0.46, 0.45),
    (0.59, 0.65, 0.11, 0.09, 0.34, 0.22),
    (0.75, 0.46, 0.56, 0.57, 0.45, 0.77, 0.17),
    (0.48, 0.31, 0.35, 0.36, 0.34, 0.56, 0.05, 0.68),
    (0.45, 0.38, 0.21, 0.23, 0.36, 0.26, 0.4, 0.27, 0.16),
    (0.96, 0.69, 0.43, 0.43, 0.54, 0.69, 0.57, 0.71, 0.49, 0.42),
    (0.91, 0.73, 0.49, 0.49, 0.56, 0.73, 0.62, 0.78, 0.51, 0.46, 0.88),
    (0.33, 0.23, 0.1, 0.11, 0.25, 0.27, 0.18, 0.29, 0.2, 0.12, 0.3, 0.3),
    (0.31, 0.24, 0.14, 0.13, 0.19, 0.27, 0.16, 0.29, 0.17, 0.09, 0.27, 0.28, 0.67),
    (0.9, 0.71, 0.5, 0.47, 0.57, 0.72, 0.59, 0.77, 0.49, 0.44, 0.87, 0.93, 0.33, 0.33),
)
#: Normal-score correlation of each *_AVG with its *_MODE and *_MEDI twin.
_SUFFIX_CORRELATION: dict[str, tuple[float, float]] = {
    "APARTMENTS": (0.961, 0.998), "BASEMENTAREA": (0.96, 0.997),
    "YEARS_BEGINEXPLUATATION": (0.986, 0.997), "YEARS_BUILD": (0.986, 0.999),
    "COMMONAREA": (0.97, 0.998), "ELEVATORS": (0.977, 0.995), "ENTRANCES": (0.964, 0.997),
    "FLOORSMAX": (0.983, 0.996), "FLOORSMIN": (0.975, 0.997), "LANDAREA": (0.965, 0.998),
    "LIVINGAPARTMENTS": (0.974, 0.998), "LIVINGAREA": (0.959, 0.997),
    "NONLIVINGAPARTMENTS": (0.942, 0.984), "NONLIVINGAREA": (0.934, 0.988),
}
#: REGION_RATING_CLIENT_W_CITY counts given REGION_RATING_CLIENT (never above it).
_RATING_W_CITY: dict[int, dict[int, int]] = {
    1: {1: 541}, 2: {1: 30, 2: 3654}, 3: {1: 8, 2: 64, 3: 703},
}
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
#: WALLSMATERIAL_MODE ordered by the median FLOORSMAX_AVG of its buildings in the sample.
_WALLS_BY_HEIGHT = (
    "Wooden", "Others", "Block", "Stone, brick", "Mixed", "Panel", "Monolithic",
)
_WALLS_HEIGHT_CORRELATION = 0.5
#: Pensioners earn and borrow less than their age alone explains (point-biserial correlations
#: -0.24 and -0.10 in the sample): shifts of their income and credit-size latents.
_PENSIONER_INCOME_SHIFT = -0.3
_PENSIONER_CREDIT_SHIFT = -0.25
#: Bigger buildings in better regions and for higher incomes (TOTALAREA_MODE: Spearman 0.19 with
#: income, -0.15 with the region rating): weight of that shared factor in the building latents.
_BUILDING_AFFLUENCE_LOADING = 0.2
#: Revolving loans: AMT_ANNUITY is 5% of AMT_CREDIT (all 484 sample rows), credit a multiple of
#: 22,500; cash-loan goods prices are multiples of 4,500 (99.8%).
_REVOLVING_ANNUITY_RATE = 0.05
_REVOLVING_CREDIT_STEP = 22_500
_GOODS_PRICE_STEP = 4_500
_INCOME_STEP = 2_250
#: No one worked before 18 (sample minimum 17.9 years).
_MIN_WORK_AGE_DAYS = 18 * 365
#: Passports are issued at 20 and replaced at 45, and none in the sample is older than 6,228
#: days (the passport exchange of the early 2000s): DAYS_ID_PUBLISH is the later of the last
#: milestone and that date, plus a delay: a share of the time since, with quantiles per case
#: (ID_DELAY_20, ID_DELAY_EXCHANGE, ID_DELAY_45).
_ID_MILESTONES_YEARS = (20, 45)
_ID_EARLIEST = -6_228
#: How strongly building fields go missing together (latent correlation of their missingness).
_BUILDING_MISSING_CORRELATION = 0.95

# --------------------------------------------------------------------------------------------
# Risk model (log-odds contributions). Directions follow the real data; sizes were tuned so
# that LightGBM reaches a realistic, imperfect CV AUC.
# --------------------------------------------------------------------------------------------

#: Weight of each latent copula dimension (normal scores; higher DAYS_* = more recent/younger).
_RISK_LATENT: dict[str, float] = {
    "EXT_SOURCE_1": -0.25,  # strongly age-related: younger -> lower score -> riskier
    "EXT_SOURCE_2": -0.45,
    "EXT_SOURCE_3": -0.62,
    "ANNUITY_RATE": -0.18,  # lower monthly rate = longer term -> riskier
    "CREDIT_SIZE": -0.12,
    "MARKUP": 0.12,
    "ID_DELAY": 0.10,  # a recently (re)issued ID -> riskier
    "DAYS_LAST_PHONE_CHANGE": 0.08,
}
#: Shorter employment -> riskier (latent DAYS_EMPLOYED; employed applicants only).
_RISK_EMPLOYMENT = 0.20
_RISK_REGION_RATING = 0.25  # per step of REGION_RATING_CLIENT_W_CITY above 2
_RISK_DEF_30 = 0.50  # per defaulted acquaintance (capped at 3)
_RISK_MISSING = {"EXT_SOURCE_1": 0.10, "EXT_SOURCE_3": 0.25}
_RISK_CATEGORY: dict[str, dict[str, float]] = {
    "CODE_GENDER": {"M": 0.25},
    "FLAG_OWN_CAR": {"Y": -0.10},
    "NAME_CONTRACT_TYPE": {"Revolving loans": -0.30},
    "NAME_EDUCATION_TYPE": {
        "Academic degree": -1.50, "Higher education": -0.60, "Incomplete higher": 0.05,
        "Lower secondary": 0.35,
    },
    "NAME_INCOME_TYPE": {
        "Working": 0.15, "Commercial associate": -0.20, "State servant": -0.60,
        "Pensioner": 0.20, "Unemployed": 1.00, "Maternity leave": 1.00, "Businessman": -0.80,
        "Student": -0.80,
    },
    "NAME_FAMILY_STATUS": {"Civil marriage": 0.15, "Single / not married": 0.15, "Widow": -0.15},
    "NAME_HOUSING_TYPE": {
        "Rented apartment": 0.30, "With parents": 0.20, "Office apartment": -0.20,
    },
    "OCCUPATION_TYPE": {
        "Low-skill Laborers": 0.70, "Drivers": 0.30, "Waiters/barmen staff": 0.30,
        "Security staff": 0.30, "Laborers": 0.25, "Cooking staff": 0.20, "Sales staff": 0.15,
        "Cleaning staff": 0.15, "Accountants": -0.40, "Managers": -0.20,
        "High skill tech staff": -0.20, "Core staff": -0.20, "HR staff": -0.20, "IT staff": -0.20,
        "Medicine staff": -0.10,
    },
}

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_NORMAL = NormalDist()
_BUILDING_STATS: tuple[str, ...] = tuple(
    f.name[: -len("_AVG")] for f in schema.FEATURE_FIELDS if f.name.endswith("_AVG")
)
_SOCIAL = tuple(f.name for f in schema.FEATURE_FIELDS if f.name.endswith("_CNT_SOCIAL_CIRCLE"))
#: The six address-mismatch flags, in schema order (the order of the _ADDRESS_PATTERNS bits).
_ADDRESS_FLAGS = tuple(f.name for f in schema.FEATURE_FIELDS if "_NOT_" in f.name)
_BUREAU = tuple(f.name for f in schema.FEATURE_FIELDS if f.name.startswith("AMT_REQ_CREDIT_"))


def _share(field: str, value: str) -> float:
    counts = _CATEGORY_COUNTS[field]
    return counts[value] / sum(counts.values())


def _missing_rates() -> dict[str, float]:
    rates = dict(_SAMPLE_MISSING)
    for stat, rate in _BUILDING_MISSING.items():
        for suffix in ("AVG", "MODE", "MEDI"):
            rates[f"{stat}_{suffix}"] = rate
    for name, rate in _FULL_DATA_MISSING.items():
        rates[name] = max(rates[name], rate)
    return {f.name: rates[f.name] for f in schema.FEATURE_FIELDS if f.nullable}


#: Expected missing rate of every nullable field (the sample's, or the full data's if tiny).
MISSING_RATES: dict[str, float] = _missing_rates()


def _inv_cdf(p: float) -> float:
    return _NORMAL.inv_cdf(min(max(p, 1e-12), 1 - 1e-12))


#: Normal scores of the quantile knots; the extreme knots sit at the 1/10,000 tails.
_KNOT_Z = np.array([_inv_cdf(min(max(p, 1e-4), 1 - 1e-4)) for p in _KNOT_PROBS])


def _quantile(name: str, z: np.ndarray) -> np.ndarray:
    """Map normal scores through the tabulated quantiles of ``name``."""
    return np.interp(z, _KNOT_Z, _QUANTILES[name])


def _cuts(weights: Sequence[float]) -> np.ndarray:
    """Normal-score thresholds splitting N(0, 1) into bins with these relative weights."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w)[:-1] / w.sum()
    return np.array([_inv_cdf(p) for p in cum])


def _bin(z: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Index of the bin of each latent value (bins ordered as ``weights``)."""
    return np.searchsorted(_cuts(weights), z, side="right")


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
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
    return np.minimum(out, table.shape[1] - 1)


def _vocabulary(field: str) -> tuple[str, ...]:
    return schema.FIELDS_BY_NAME[field].categories


def _weights(field: str, counts: Mapping[str, float], exclude: Sequence[str] = ()) -> np.ndarray:
    """Weights over the schema vocabulary of ``field`` (absent values get _ABSENT_SHARE)."""
    vocab = _vocabulary(field)
    total = float(sum(counts.values()))
    w = np.array([counts.get(v, _ABSENT_SHARE * total) for v in vocab], dtype=np.float64)
    w[[vocab.index(v) for v in exclude]] = 0.0
    return w


def _categories(field: str, index: np.ndarray) -> np.ndarray:
    return np.asarray(_vocabulary(field), dtype=object)[index]


def _sample_category(
    rng: np.random.Generator, n: int, field: str, exclude: Sequence[str] = ()
) -> np.ndarray:
    return _categories(field, _pick(rng, n, _weights(field, _CATEGORY_COUNTS[field], exclude)))


def _sample_counts(rng: np.random.Generator, n: int, table: Mapping[int, int]) -> np.ndarray:
    values = np.array(list(table), dtype=np.float64)
    return values[_pick(rng, n, list(table.values()))]


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
    return _cholesky(_CORE_CORRELATION)


@cache
def _building_factor() -> np.ndarray:
    return _cholesky(_BUILDING_CORRELATION)


@cache
def _affluence_scale() -> float:
    """Standard deviation of REGION + AMT_INCOME_TOTAL latents (to standardise their sum)."""
    factor = _core_factor()
    i, j = _CORE.index("REGION"), _CORE.index("AMT_INCOME_TOTAL")
    return float(np.sqrt(2.0 + 2.0 * factor[i] @ factor[j]))


def _noisy(rng: np.random.Generator, z: np.ndarray, correlation: float) -> np.ndarray:
    """A standard normal with the given correlation to ``z``."""
    return correlation * z + np.sqrt(1.0 - correlation**2) * rng.standard_normal(len(z))


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


def _validate_calibration() -> None:
    """Every category named in the calibration must be in the schema's vocabulary."""
    named: list[tuple[str, Sequence[str]]] = [
        *((field, list(counts)) for field, counts in _CATEGORY_COUNTS.items()),
        *((field, list(weights)) for field, weights in _RISK_CATEGORY.items()),
        ("NAME_FAMILY_STATUS", [*_FAMILY_BY_AGE, *_COUPLE]),
        ("NAME_HOUSING_TYPE", list(_HOUSING_BY_AGE)),
        ("NAME_EDUCATION_TYPE", list(_EDUCATION_ORDER)),
        ("WALLSMATERIAL_MODE", list(_WALLS_BY_HEIGHT)),
        ("OCCUPATION_TYPE", list(_OCCUPATION_SHARE_MALE)),
        ("NAME_INCOME_TYPE", [_PENSIONER, _UNEMPLOYED]),
        ("NAME_CONTRACT_TYPE", [_REVOLVING]),
        ("ORGANIZATION_TYPE", [_NO_ORGANIZATION]),
        ("CODE_GENDER", ["F", "M", "XNA"]),
        ("FLAG_OWN_CAR", ["N", "Y"]),
    ]
    for field, values in named:
        unknown = sorted(set(values) - set(_vocabulary(field)))
        if unknown:
            raise ValueError(f"calibration names {unknown} outside the {field} vocabulary")
    if set(_EDUCATION_ORDER) != set(_vocabulary("NAME_EDUCATION_TYPE")):
        raise ValueError("_EDUCATION_ORDER must rank the whole NAME_EDUCATION_TYPE vocabulary")
    if set(_WALLS_BY_HEIGHT) != set(_vocabulary("WALLSMATERIAL_MODE")):
        raise ValueError("_WALLS_BY_HEIGHT must rank the whole WALLSMATERIAL_MODE vocabulary")
    if set(_BUILDING_MISSING) != set(_BUILDING_STATS):
        raise ValueError("_BUILDING_MISSING must cover the schema's building statistics")


_validate_calibration()


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------


def generate(rows: int, seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """``rows`` synthetic applications with TARGET, columns exactly schema.TRAINING_COLUMNS.

    Non-nullable integer fields and TARGET are int64, other numeric fields float64 (NaN =
    missing), categories object strings (NaN = missing). Same seed, same frame.
    """
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    rng = np.random.default_rng(seed)
    tick = _progress(progress)
    n = rows
    col: dict[str, np.ndarray] = {}

    gaps = 1 + (rng.random(n) < _ID_GAP_SHARE).astype(np.int64)
    col[schema.ID_FIELD] = _FIRST_ID + np.cumsum(gaps) - gaps[0]

    # Applicant copula.
    latent = rng.standard_normal((n, len(_CORE))) @ _core_factor().T
    z = {name: latent[:, i] for i, name in enumerate(_CORE)}
    tick("applicant")

    # Who: age, gender, pension, income type, employment, education.
    days_birth = np.round(_quantile("DAYS_BIRTH", z["DAYS_BIRTH"]))
    age = -days_birth / 365.25
    male = z["MALE"] > _inv_cdf(_share("CODE_GENDER", "F"))
    gender = np.where(male, "M", "F").astype(object)
    gender[rng.random(n) < _ABSENT_SHARE] = "XNA"
    band = _band(age, _PENSION_AGE_EDGES)
    pension_share = np.where(
        male, np.asarray(_PENSIONER_SHARE_M)[band], np.asarray(_PENSIONER_SHARE_F)[band]
    )
    pensioner = rng.random(n) < pension_share
    income_type = _sample_category(rng, n, "NAME_INCOME_TYPE", exclude=(_PENSIONER,))
    income_type[pensioner] = _PENSIONER
    sentinel = pensioner | (income_type == _UNEMPLOYED)
    employed = ~sentinel
    days_employed = np.round(_quantile("DAYS_EMPLOYED", z["DAYS_EMPLOYED"]))
    days_employed = np.minimum(np.maximum(days_employed, days_birth + _MIN_WORK_AGE_DAYS), -1)
    days_employed = np.where(sentinel, schema.DAYS_EMPLOYED_SENTINEL, days_employed)
    education_counts = _CATEGORY_COUNTS["NAME_EDUCATION_TYPE"]
    education = np.asarray(_EDUCATION_ORDER, dtype=object)[
        _bin(z["EDUCATION"], [education_counts.get(v, 1) for v in _EDUCATION_ORDER])
    ]
    col.update(
        CODE_GENDER=gender, DAYS_BIRTH=days_birth, NAME_INCOME_TYPE=income_type,
        DAYS_EMPLOYED=days_employed, NAME_EDUCATION_TYPE=education,
        FLAG_EMP_PHONE=employed.astype(np.int64),
    )

    # Money: income, contract, credit, goods price, annuity.
    pension_offset = pensioner - _share("NAME_INCOME_TYPE", _PENSIONER)
    z_income = z["AMT_INCOME_TOTAL"] + _PENSIONER_INCOME_SHIFT * pension_offset
    z_credit = z["CREDIT_SIZE"] + _PENSIONER_CREDIT_SHIFT * pension_offset
    income = np.round(_quantile("AMT_INCOME_TOTAL", z_income) / _INCOME_STEP) * _INCOME_STEP
    col["AMT_INCOME_TOTAL"] = np.maximum(income, _INCOME_STEP)
    contract = _sample_category(rng, n, "NAME_CONTRACT_TYPE")
    revolving = contract == _REVOLVING
    goods = np.round(_quantile("AMT_GOODS_PRICE", z_credit) / _GOODS_PRICE_STEP)
    goods = np.maximum(goods, 1) * _GOODS_PRICE_STEP
    markups = sorted(_MARKUPS)
    markup = np.asarray(markups)[_bin(z["MARKUP"], [_MARKUPS[m] for m in markups])]
    credit = np.round(goods * markup * 2) / 2
    annuity = np.round(credit * _quantile("ANNUITY_RATE", z["ANNUITY_RATE"]) * 2) / 2
    rev_step = _REVOLVING_CREDIT_STEP
    rev_credit = np.round(_quantile("REVOLVING_CREDIT", z_credit) / rev_step) * rev_step
    credit = np.where(revolving, rev_credit, credit)
    goods = np.where(revolving, rev_credit, goods)
    annuity = np.where(revolving, rev_credit * _REVOLVING_ANNUITY_RATE, annuity)
    goods_missing = revolving & (
        rng.random(n) < MISSING_RATES["AMT_GOODS_PRICE"] / _share("NAME_CONTRACT_TYPE", _REVOLVING)
    )
    annuity_missing = rng.random(n) < MISSING_RATES["AMT_ANNUITY"]
    col.update(
        NAME_CONTRACT_TYPE=contract, AMT_CREDIT=credit,
        AMT_ANNUITY=_masked(annuity, annuity_missing),
        AMT_GOODS_PRICE=_masked(goods, goods_missing),
    )
    tick("money")

    # Household: car, realty, family, children, housing, companion.
    car = z["OWN_CAR"] > _inv_cdf(_share("FLAG_OWN_CAR", "N"))
    col["FLAG_OWN_CAR"] = np.where(car, "Y", "N").astype(object)
    car_age = np.round(_quantile("OWN_CAR_AGE", rng.standard_normal(n)))
    col["OWN_CAR_AGE"] = _masked(car_age, ~car)
    col["FLAG_OWN_REALTY"] = _sample_category(rng, n, "FLAG_OWN_REALTY")
    family_vocab = _vocabulary("NAME_FAMILY_STATUS")
    family_table = np.array(
        [_FAMILY_BY_AGE.get(v, (0,) * (len(_FAMILY_AGE_EDGES) + 1)) for v in family_vocab],
        dtype=np.float64,
    ).T
    family_table += _ABSENT_SHARE * family_table.sum(axis=1, keepdims=True) * (family_table == 0)
    family = _categories(
        "NAME_FAMILY_STATUS", _pick_by_group(rng, _band(age, _FAMILY_AGE_EDGES), family_table)
    )
    couple = np.isin(family, _COUPLE)
    child_band = _band(age, _CHILD_AGE_EDGES)
    children = np.where(
        couple,
        _pick_by_group(rng, child_band, np.asarray(_CHILDREN_COUPLE, dtype=np.float64)),
        _pick_by_group(rng, child_band, np.asarray(_CHILDREN_SINGLE, dtype=np.float64)),
    )
    many = children >= 4
    children[many] = _sample_counts(rng, int(many.sum()), _CHILDREN_4PLUS)
    fam_members = (children + 1 + couple).astype(np.float64)
    housing_vocab = _vocabulary("NAME_HOUSING_TYPE")
    housing_table = np.array(
        [_HOUSING_BY_AGE.get(v, (0,) * (len(_CHILD_AGE_EDGES) + 1)) for v in housing_vocab],
        dtype=np.float64,
    ).T
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
    tick("household")

    # Where and when: region, dates, contact flags, address flags, documents.
    region_values = np.array([r[0] for r in _REGIONS])
    region_ratings = np.array([r[2] for r in _REGIONS], dtype=np.int64)
    region = _bin(z["REGION"], [r[1] for r in _REGIONS])
    rating = region_ratings[region]
    rating_city = rating.copy()
    for level, counts in _RATING_W_CITY.items():
        rows = rating == level
        options = np.array(list(counts), dtype=np.int64)
        rating_city[rows] = options[_pick(rng, int(rows.sum()), list(counts.values()))]
    days_registration = np.maximum(
        np.round(_quantile("DAYS_REGISTRATION", z["DAYS_REGISTRATION"])), days_birth
    )
    young, old = _ID_MILESTONES_YEARS
    milestone = days_birth + np.where(age >= old, old, young) * 365.25
    delay = np.select(
        [milestone < _ID_EARLIEST, age >= old],
        [
            _quantile("ID_DELAY_EXCHANGE", z["ID_DELAY"]),
            _quantile(f"ID_DELAY_{old}", z["ID_DELAY"]),
        ],
        _quantile(f"ID_DELAY_{young}", z["ID_DELAY"]),
    )
    start = np.minimum(np.maximum(milestone, _ID_EARLIEST), 0)
    days_id = np.round(start - delay * start)
    days_phone = np.round(_quantile("DAYS_LAST_PHONE_CHANGE", z["DAYS_LAST_PHONE_CHANGE"]))
    col.update(
        REGION_POPULATION_RELATIVE=region_values[region],
        REGION_RATING_CLIENT=rating,
        REGION_RATING_CLIENT_W_CITY=rating_city,
        DAYS_REGISTRATION=days_registration,
        DAYS_ID_PUBLISH=days_id,
        DAYS_LAST_PHONE_CHANGE=_masked(
            days_phone, rng.random(n) < MISSING_RATES["DAYS_LAST_PHONE_CHANGE"]
        ),
        FLAG_MOBIL=(rng.random(n) >= _FLAG_MOBIL_ZERO).astype(np.int64),
    )
    for flag in _FLAG_RATES_EMPLOYED:
        rate = np.where(employed, _FLAG_RATES_EMPLOYED[flag], _FLAG_RATES_SENTINEL[flag])
        col[flag] = (rng.random(n) < rate).astype(np.int64)
    address = np.zeros((n, len(_ADDRESS_FLAGS)), dtype=np.int64)
    for patterns, rows in (
        (_ADDRESS_PATTERNS_EMPLOYED, employed), (_ADDRESS_PATTERNS_SENTINEL, sentinel)
    ):
        bits = np.array([[int(c) for c in p] for p in patterns], dtype=np.int64)
        address[rows] = bits[_pick(rng, int(rows.sum()), list(patterns.values()))]
    for j, name in enumerate(_ADDRESS_FLAGS):
        col[name] = address[:, j]
    document_numbers = [
        int(f.name.rsplit("_", 1)[1])
        for f in schema.FEATURE_FIELDS
        if f.name.startswith("FLAG_DOCUMENT_")
    ]
    document = np.zeros(n, dtype=np.int64)
    for table, rows in ((_DOCUMENTS_EMPLOYED, employed), (_DOCUMENTS_SENTINEL, sentinel)):
        options = [0, *document_numbers]
        total = sum(table.values())
        weights = [table.get(d, _ABSENT_SHARE * total) for d in options]
        document[rows] = np.asarray(options)[_pick(rng, int(rows.sum()), weights)]
    for number in document_numbers:
        col[f"FLAG_DOCUMENT_{number}"] = (document == number).astype(np.int64)
    col["WEEKDAY_APPR_PROCESS_START"] = _sample_category(rng, n, "WEEKDAY_APPR_PROCESS_START")
    col["HOUR_APPR_PROCESS_START"] = _sample_counts(
        rng, n, _COUNT_TABLES["HOUR_APPR_PROCESS_START"]
    ).astype(np.int64)
    tick("region")

    # Work: organisation and occupation (none for pensioners and the unemployed).
    organization = _sample_category(rng, n, "ORGANIZATION_TYPE", exclude=(_NO_ORGANIZATION,))
    organization[sentinel] = _NO_ORGANIZATION
    occupation_vocab = _vocabulary("OCCUPATION_TYPE")
    occupation_counts = _weights("OCCUPATION_TYPE", _CATEGORY_COUNTS["OCCUPATION_TYPE"])
    share_male = np.array([_OCCUPATION_SHARE_MALE.get(v, 0.5) for v in occupation_vocab])
    by_gender = np.vstack([occupation_counts * (1 - share_male), occupation_counts * share_male])
    occupation = _categories(
        "OCCUPATION_TYPE", _pick_by_group(rng, male.astype(np.int64), by_gender)
    )
    occupation_missing = sentinel | (rng.random(n) < _OCCUPATION_MISSING_EMPLOYED)
    col["ORGANIZATION_TYPE"] = organization
    col["OCCUPATION_TYPE"] = _masked(occupation, occupation_missing)

    # Bureau: external scores, enquiries, social circle.
    ext = {i: _quantile(f"EXT_SOURCE_{i}", z[f"EXT_SOURCE_{i}"]) for i in (1, 2, 3)}
    ext1_missing = rng.random(n) < np.asarray(_EXT1_MISSING_BY_AGE)[_band(age, _EXT1_AGE_EDGES)]
    ext2_missing = rng.random(n) < MISSING_RATES["EXT_SOURCE_2"]
    bureau_missing = rng.random(n) < MISSING_RATES[_BUREAU[0]]
    ext3_extra = (MISSING_RATES["EXT_SOURCE_3"] - MISSING_RATES[_BUREAU[0]]) / (
        1 - MISSING_RATES[_BUREAU[0]]
    )
    ext3_missing = bureau_missing | (rng.random(n) < ext3_extra)
    for i, missing in ((1, ext1_missing), (2, ext2_missing), (3, ext3_missing)):
        col[f"EXT_SOURCE_{i}"] = _masked(np.round(ext[i], 6), missing)
    for name in _BUREAU:
        col[name] = _masked(_sample_counts(rng, n, _COUNT_TABLES[name]), bureau_missing)
    obs30 = _sample_counts(rng, n, _COUNT_TABLES["OBS_30_CNT_SOCIAL_CIRCLE"]).astype(np.int64)
    def30 = rng.binomial(obs30, _DEF30_PER_OBS30)
    def60 = rng.binomial(def30, _DEF60_PER_DEF30)
    obs60 = np.where(rng.random(n) < _OBS60_EQUALS_OBS30, obs30, np.maximum(obs30 - 1, def60))
    social_missing = rng.random(n) < MISSING_RATES["OBS_30_CNT_SOCIAL_CIRCLE"]
    for name, values in zip(_SOCIAL, (obs30, def30, obs60, def60), strict=True):
        col[name] = _masked(values, social_missing)
    tick("bureau")

    affluence = (z["REGION"] + z["AMT_INCOME_TOTAL"]) / _affluence_scale()
    col.update(_building(rng, n, affluence))
    tick("building")

    # Risk.
    logit = sum(w * z[name] for name, w in _RISK_LATENT.items())
    logit = logit + _RISK_EMPLOYMENT * np.where(employed, z["DAYS_EMPLOYED"], 0.0)
    logit = logit + _RISK_REGION_RATING * (rating_city - 2)
    logit = logit + _RISK_DEF_30 * np.minimum(def30, 3)
    logit = logit + _RISK_MISSING["EXT_SOURCE_1"] * ext1_missing
    logit = logit + _RISK_MISSING["EXT_SOURCE_3"] * ext3_missing
    for field, weights in _RISK_CATEGORY.items():
        for value, w in weights.items():
            logit = logit + w * (col[field] == value)
    intercept = _solve_intercept(logit, TARGET_RATE)
    probability = 1.0 / (1.0 + np.exp(-(intercept + logit)))
    col[schema.TARGET_FIELD] = (rng.random(n) < probability).astype(np.int64)
    tick("target")

    frame = _frame(col)
    tick("frame")
    return frame


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
    loading = _BUILDING_AFFLUENCE_LOADING
    latent = np.sqrt(1.0 - loading**2) * latent + loading * affluence[:, None]
    completeness = rng.standard_normal(n)

    def missing(marginal: float) -> np.ndarray:
        # Missing given a building record, nested through the shared `completeness` latent.
        given_present = 1.0 - (1.0 - marginal) / present_share
        if given_present <= 0:
            return ~present
        own = _noisy(rng, completeness, _BUILDING_MISSING_CORRELATION)
        return ~present | (own < _inv_cdf(given_present))

    for i, stat in enumerate(_BUILDING_STATS):
        gone = missing(_BUILDING_MISSING[stat])
        mode_corr, medi_corr = _SUFFIX_CORRELATION[stat]
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
    walls_counts = _CATEGORY_COUNTS["WALLSMATERIAL_MODE"]
    height = latent[:, _BUILDING_STATS.index("FLOORSMAX")]
    walls_latent = _noisy(rng, height, _WALLS_HEIGHT_CORRELATION)
    walls = np.asarray(_WALLS_BY_HEIGHT, dtype=object)[
        _bin(walls_latent, [walls_counts[w] for w in _WALLS_BY_HEIGHT])
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
        gzip = {"method": "gzip", "mtime": 0, "compresslevel": 6}  # level 9: 2x slower, -5%
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
