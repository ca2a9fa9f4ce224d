"""portfolio.split: shards of a fixed size in the book's own format, whose scores are the
book's scores."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portfolio.__main__ import main
from portfolio.chunk import score_chunk
from portfolio.read import open_book
from portfolio.split import split_book


def test_csv_and_parquet_shards_score_as_the_whole_book(bundle, synthetic_book, tmp_path):
    whole = pa.concat_tables(open_book(str(synthetic_book)).chunks())
    expected = score_chunk(bundle, whole, 1, first_row=0).table.to_pandas()
    shards = split_book(str(synthetic_book), str(tmp_path / "csv"), 600)
    assert [p.rsplit("/", 1)[-1] for p in shards] == [
        "shard-00000.csv", "shard-00001.csv", "shard-00002.csv"]
    scored = [score_chunk(bundle, pa.concat_tables(open_book(p).chunks()), 1, 0).table
              for p in shards]
    pd.testing.assert_frame_equal(pa.concat_tables(scored).to_pandas(), expected)

    pq.write_table(whole, tmp_path / "book.parquet")
    parquet = split_book(str(tmp_path / "book.parquet"), str(tmp_path / "pq"), 1_000)
    assert [pq.ParquetFile(p).metadata.num_rows for p in parquet] == [1_000, 500]


def test_split_command_and_bad_size(synthetic_book, tmp_path, capsys):
    assert main(["split", "--input", str(synthetic_book), "--output", str(tmp_path / "s"),
                 "--shard-rows", "1000"]) == 0
    assert "2 shard(s)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="at least 1"):
        split_book(str(synthetic_book), str(tmp_path / "t"), 0)
