"""Portfolio re-scoring: a whole book of applications (CSV, CSV.gz or Parquet, local or
S3) through the same model, validation rules and reasons as the scoring API.

``python -m portfolio score`` (``make score-book``) on one machine; ``python -m portfolio
split`` (``make split-book``) cuts a book into shards for the Step Functions Distributed
Map, whose children run :mod:`portfolio.batch` over the same code. File reading and
writing (pyarrow) live here, never in the scoring zip; the rules and the scoring are
scoring.columns. See docs/portfolio-scoring.md.
"""
