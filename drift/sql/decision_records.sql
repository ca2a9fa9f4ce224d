-- The decision records the join and the cohort counts read, bounded to the cohorts that
-- can matter (drift.outcomes_join.Window): decision months from $first_month up to, not
-- including, $open_month from the compacted decisions table (Parquet, one partition per
-- month: compact_decisions.sql), and the months not compacted yet from the captures. Both
-- predicates are on partition keys, so Athena reads only those partitions. A capture's dt
-- is when Firehose received the oldest record of its object, so it can be the day before
-- or after the record's own captured_at: the captures are read from the day before
-- $open_month and kept by captured_at.
SELECT captured_at, request_id, model_version, client_id_hash, hash_key_id, probability,
       decision, features
FROM decisions
WHERE month >= '$first_month' AND month < '$open_month'
UNION ALL
SELECT captured_at, request_id, model_version, client_id_hash, hash_key_id, probability,
       decision, features
FROM captures
WHERE dt >= '$captures_from' AND dt <= '$last_day'
  AND substr(captured_at, 1, 7) >= '$open_month'
