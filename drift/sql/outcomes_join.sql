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
-- compacted yet, bounded by partition), written out as a subquery in both matches: a CTE
-- read twice would be materialized by DuckDB, applicant fields and all. Outcomes observed
-- before $first_day cannot be of a decision in that range (observed_at >= decided_at), so
-- their partitions are not read either.
WITH recent_outcomes AS (
    SELECT * FROM outcomes WHERE dt >= '$first_day'
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
by_request AS (
    SELECT o.loan_id, 1 AS preference, c.captured_at, c.request_id, c.model_version,
           c.probability, c.decision, c.features, c.client_id_hash AS scored_client
    FROM recent_outcomes o
    JOIN (
$decision_records
    ) c ON c.request_id = o.request_id
    WHERE o.request_id IS NOT NULL
      AND (o.client_id_hash IS NULL
           OR (c.client_id_hash = o.client_id_hash
               AND (c.hash_key_id IS NULL OR c.hash_key_id = o.hash_key_id)))
),
by_client AS (
    SELECT o.loan_id, 2 AS preference, c.captured_at, c.request_id, c.model_version,
           c.probability, c.decision, c.features, c.client_id_hash AS scored_client
    FROM recent_outcomes o
    JOIN (
$decision_records
    ) c ON c.client_id_hash = o.client_id_hash
    WHERE o.request_id IS NULL
      AND (c.hash_key_id IS NULL OR c.hash_key_id = o.hash_key_id)
      AND substr(c.captured_at, 1, 10) <= COALESCE(o.decided_at, o.observed_at)
),
ranked AS (
    SELECT m.*,
           row_number() OVER (PARTITION BY m.loan_id
                              ORDER BY m.preference, m.captured_at DESC, m.request_id,
                                       m.scored_client) AS pick,
           count(*) OVER (PARTITION BY m.loan_id) AS scorings
    FROM (SELECT * FROM by_request UNION ALL SELECT * FROM by_client) m
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
