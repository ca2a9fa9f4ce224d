-- One month of captures ($month) as decision records: what outcomes analysis needs for as
-- long as Regulation B keeps application records (25 months), in the decisions table's
-- columns (template.yaml DecisionsTable). drift.compaction wraps this SELECT: DuckDB
-- `COPY (...) TO '<month=$month>/decisions.parquet' (FORMAT parquet)`, Athena
-- `UNLOAD (...) TO 's3://.../decisions/month=$month/' WITH (format = 'PARQUET')`.
-- A capture's dt is when Firehose received the oldest record of its object, so it can be
-- the day before or after the record's captured_at: read the day before and the day after
-- the month too, and keep the month's records by captured_at. No threshold column: captures do not carry it; it follows from
-- model_version (the bundle's card, kept as long as the records).
SELECT captured_at, request_id, model_version, client_id_hash, hash_key_id, probability,
       decision, features
FROM captures
WHERE dt >= '$dt_from' AND dt <= '$dt_to'
  AND substr(captured_at, 1, 7) = '$month'
