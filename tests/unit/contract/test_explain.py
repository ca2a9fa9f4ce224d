"""contract.explain: labels, groups, statements, age bands and the feature sources."""

from __future__ import annotations

import numpy as np
import pytest

from contract import explain, schema
from training import features


def test_every_field_has_a_label_and_groups_are_disjoint():
    assert set(explain.LABELS) == {f.name for f in schema.FEATURE_FIELDS}
    members = [f for _, fields in explain.FIELD_GROUPS.values() for f in fields]
    assert len(members) == len(set(members)) and set(members) <= set(explain.LABELS)


def test_statement_templates():
    assert explain.statement("EXT_SOURCE_1", "score from external credit bureau 1", None, 0.5,
                             True) == ("No score from external credit bureau 1 on file, "
                                       "which raises the risk")
    assert explain.statement("EXT_SOURCE_3", "score from external credit bureau 3", 0.27, 0.5,
                             True) == ("Score from external credit bureau 3 is low (0.27), "
                                       "which raises the risk")
    assert explain.statement("DAYS_EMPLOYED", "time in the current job", -3653, -1500.0,
                             False) == ("Time in the current job is high (10.0 years), "
                                        "which lowers the risk")
    assert explain.statement("FLAG_EMAIL", "e-mail given", 0, None, True) == (
        "E-mail given: no, which raises the risk")
    # The value's side of the median does not decide the direction: both are said.
    assert explain.statement("EXT_SOURCE_3", "score from external credit bureau 3", 0.27, 0.5,
                             False) == ("Score from external credit bureau 3 is low (0.27), "
                                        "which lowers the risk")
    assert explain.group_statement("documents provided with the application", False) == (
        "Documents provided with the application lower the risk")


#: Every group's statement, as a reader should see it (a new group must be added here).
GROUP_SENTENCES = {
    "BUILDING": "Information about the applicant's home building raises the risk",
    "DOCUMENTS": "Documents provided with the application raise the risk",
    "CREDIT_BUREAU_ENQUIRIES": "Recent enquiries to the credit bureau raise the risk",
    "SOCIAL_CIRCLE": "Payment records of the applicant's social circle raise the risk",
    "CONTACT": "Contact details provided raise the risk",
    "ADDRESS_MATCH": "Whether home, registered and work addresses match raises the risk",
    "REGION_RATING": "Rating of the applicant's region raises the risk",
}


@pytest.mark.parametrize("group", sorted(explain.FIELD_GROUPS))
def test_every_group_statement_is_a_grammatical_sentence(group):
    label = explain.FIELD_GROUPS[group][0]
    raising = explain.group_statement(label, True)
    assert raising == GROUP_SENTENCES[group]
    lowering = explain.group_statement(label, False)
    assert lowering == raising.replace(" raises ", " lowers ").replace(" raise ", " lower ")
    plural = group in explain.PLURAL_GROUPS
    assert raising.endswith(" raise the risk" if plural else " raises the risk")
    assert raising[0].isupper() and "  " not in raising


def test_the_group_sentences_cover_every_group():
    assert set(GROUP_SENTENCES) == set(explain.FIELD_GROUPS)
    assert set(explain.FIELD_GROUPS) >= explain.PLURAL_GROUPS


def test_age_bands_and_the_elderly_rule():
    days = -np.array([18, 29.99, 30, 44.99, 45, 61.99, 62, 90]) * explain.DAYS_PER_YEAR
    assert list(explain.age_band(days)) == ["<30", "<30", "30-44", "30-44", "45-61", "45-61",
                                            "62+", "62+"]
    assert explain.age_band(np.array([np.nan]))[0] == "missing"
    assert explain.is_elderly(-62 * explain.DAYS_PER_YEAR)
    assert not explain.is_elderly(-61.9 * explain.DAYS_PER_YEAR)
    assert not explain.is_elderly(None)
    # The column form gives the same answers, a missing age (NaN) never elderly.
    column = np.append(days, [np.nan, -np.inf, -22_646, -22_645])
    assert list(explain.elderly(column)) == [explain.is_elderly(float(d)) for d in column]
    assert list(explain.elderly(column)) == [False] * 6 + [True] * 2 + [False] * 2 + [True, False]


def test_engineered_sources_match_the_feature_graph():
    """The serving-side attribution names exactly the fields each ratio is computed from."""
    assert set(explain.ENGINEERED_SOURCES) == set(features.ENGINEERED_FEATURES)
    for name, numerator, denominator, _ in features._RATIOS:
        assert explain.ENGINEERED_SOURCES[name][1] == (numerator, denominator)
    assert explain.EXT_SOURCES == features._EXT_SOURCES
    assert explain.excluded_features(list(features.FEATURE_NAMES), ["AMT_GOODS_PRICE"]) == [
        "AMT_GOODS_PRICE", "CREDIT_GOODS_RATIO"]
    assert schema.FIELDS_BY_NAME[explain.AGE_FIELD].kind == "integer"
