-- The outcomes join: one row per loan of `outcomes`, with the scoring that decided it.
--
-- One text for both engines: DuckDB locally (drift.outcomes_join makes `decisions`,
-- `captures` and `outcomes` views over the downloaded objects) and Amazon Athena (Glue
-- tables of the same names and columns, template.yaml). The dollar placeholders are the
-- window's bounds and decision_records.sql (string.Template: drift.outcomes_join.join_sql).
-- It uses only what both dialects share: equi-joins, UNION ALL, row_number()/count(*)
-- windows, substr, COALESCE, CASE. Timestamps are compared as ISO 8601 text (captured_at
-- is always UTC "+00:00", dates are YYYY-MM-DD), so no
-- dialect-specific date function is needed.
--
-- Matching: a loan with a request_id matches the captures of that request (and of its
-- client, when the loan also has a client hash; a request-only loan that finds several
-- records, a batch, is "ambiguous"). A loan without request_id matches its client's
-- captures at or before decided_at (observed_at when absent), hashed with the same key
-- (hash_key_id; captures older than hash_key_id match any key), the latest one winning.
-- `scorings` counts the candidate captures: above 1 on a client match, the client was
-- rescored before the decision. A loan written once per hash key (a rotation) has one
-- loan_id and gets one row. Ties (the members of a batch) are broken by client hash, so
-- the same records give the same rows on any engine and any run.
--
-- The scorings are decision_records.sql (the decisions table and the captures not
-- compacted yet, bounded by partition), read once: each record is offered under two keys,
-- its request id (kind 1) and its client hash (kind 2), and each loan looks for the one
-- key it has, so a single equi-join does both matches (Athena bills every scan of a
-- table, and an OR join condition makes DuckDB fall back to a nested loop). Outcomes
-- observed before $first_day cannot be of a decision in that range (observed_at >=
-- decided_at), so their partitions are not read either.
WITH recent_outcomes AS (
    SELECT *,
           CASE WHEN request_id IS NOT NULL THEN 'request:' || request_id
                ELSE 'client:' || client_id_hash END AS match_key
    FROM outcomes
    WHERE dt >= '$first_day'
),
loans AS (
    SELECT loan_id,
           max(request_id) AS request_id,
           max(outcome) AS outcome,
           max(observed_at) AS observed_at,
           max(COALESCE(decided_at, observed_at)) AS decided_by,
           max(client_id_hash) AS any_client_hash
    FROM recent_outcomes
    GROUP BY loan_id
),
matches AS (
    SELECT o.loan_id, k.kind AS preference, c.captured_at, c.request_id, c.model_version,
           c.probability, c.decision, c.features, c.client_id_hash AS scored_client
    FROM (
$decision_records
    ) c
    CROSS JOIN (VALUES (1), (2)) AS k (kind)
    JOIN recent_outcomes o
      ON o.match_key = CASE WHEN k.kind = 1 THEN 'request:' || c.request_id
                            ELSE 'client:' || c.client_id_hash END
    WHERE (k.kind = 1
           AND (o.client_id_hash IS NULL
                OR (c.client_id_hash = o.client_id_hash
                    AND (c.hash_key_id IS NULL OR c.hash_key_id = o.hash_key_id))))
       OR (k.kind = 2
           AND (c.hash_key_id IS NULL OR c.hash_key_id = o.hash_key_id)
           AND substr(c.captured_at, 1, 10) <= COALESCE(o.decided_at, o.observed_at))
),
ranked AS (
    SELECT m.*,
           row_number() OVER (PARTITION BY m.loan_id
                              ORDER BY m.preference, m.captured_at DESC, m.request_id,
                                       m.scored_client) AS pick,
           count(*) OVER (PARTITION BY m.loan_id) AS scorings
    FROM matches m
)
SELECT l.loan_id,
       l.outcome,
       l.observed_at,
       l.decided_by,
       CASE WHEN r.loan_id IS NULL THEN 'unmatched'
            WHEN r.preference = 1 AND r.scorings > 1 AND l.any_client_hash IS NULL
                THEN 'ambiguous'
            ELSE 'matched' END AS status,
       CASE WHEN r.preference = 1 THEN 'request_id'
            WHEN r.preference = 2 THEN 'client_hash' END AS matched_on,
       COALESCE(r.scorings, 0) AS scorings,
       r.captured_at,
       substr(r.captured_at, 1, 7) AS cohort,
       r.request_id,
       r.model_version,
       r.probability,
       r.decision,
       r.features
FROM loans l
LEFT JOIN ranked r ON r.loan_id = l.loan_id AND r.pick = 1
ORDER BY l.loan_id
