"""portfolio.chunk: the documented output layout and the chunk counts."""

from __future__ import annotations

import math

import pyarrow as pa

from contract import explain
from portfolio.chunk import ChunkStats, output_schema, score_chunk
from portfolio.read import open_book


def _book(path) -> pa.Table:
    return pa.concat_tables(open_book(str(path)).chunks())


def test_output_layout(bundle, synthetic_book):
    table = _book(synthetic_book).slice(0, 300)
    plain = score_chunk(bundle, table, 0, first_row=0).table
    assert plain.num_rows == 300
    assert plain.column_names == ["SK_ID_CURR", "probability_default", "decision", "threshold",
                                  "model_version"]
    result = score_chunk(bundle, table, 3, first_row=0)
    assert result.table.schema == output_schema(3)
    names = result.table.column_names
    assert names[5:9] == ["reason_1_fields", "reason_1_statement", "reason_1_contribution",
                          "reason_1_direction"]
    assert names[-2:] == ["base_log_odds", "other_log_odds"]
    frame = result.table.to_pandas()
    assert frame["probability_default"].tolist() == plain.column("probability_default").to_pylist()
    declined = frame[frame["decision"] == "decline"]
    assert (declined["reason_1_direction"].dropna() == "increases_risk").all()
    # base + listed contributions + other = the log-odds behind the probability
    listed = frame[[f"reason_{i}_contribution" for i in (1, 2, 3)]].fillna(0).sum(axis=1)
    margin = frame["base_log_odds"] + listed + frame["other_log_odds"]
    logit = (frame["probability_default"] / (1 - frame["probability_default"])).map(math.log)
    assert (margin - logit).abs().max() < 1e-9
    # fewer qualifying reasons than asked: the remaining reason columns are empty
    short = frame[frame["reason_3_fields"].isna()]
    assert short["reason_3_statement"].isna().all() and short["reason_3_contribution"].isna().all()


def test_counts_by_fairness_group(bundle, synthetic_book):
    table = _book(synthetic_book)
    result = score_chunk(bundle, table, 0, first_row=0)
    frame = table.to_pandas()
    frame["DAYS_BIRTH"] = frame["DAYS_BIRTH"].astype(float)
    declined = (result.table.column("decision").to_pandas() == "decline").to_numpy()
    stats = result.stats
    assert (stats.rows, stats.scored, stats.rejected) == (1_500, 1_500, 0)
    assert stats.declines == declined.sum()
    bands = explain.age_band(frame["DAYS_BIRTH"].to_numpy())
    for band in set(bands):
        assert stats.groups["age"][band] == [int((bands == band).sum()),
                                             int(declined[bands == band].sum())]
    marital = frame["NAME_FAMILY_STATUS"].fillna("missing")
    assert sum(n for n, _ in stats.groups["marital_status"].values()) == len(marital)
    total = ChunkStats()
    total.add(stats)
    total.add(ChunkStats.from_dict(stats.to_dict()))
    assert total.groups["gender"]["F"][0] == 2 * int((frame["CODE_GENDER"] == "F").sum())
