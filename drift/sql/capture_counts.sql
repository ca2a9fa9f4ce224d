-- Scored and approved applications per decision month and model version (the cohorts'
-- denominators), over the same bounded decision records as the join (`scored`:
-- decision_records.sql). Same engines and conventions as outcomes_join.sql.
WITH scored AS (
$decision_records
)
SELECT substr(captured_at, 1, 7) AS cohort,
       model_version,
       count(*) AS scored,
       sum(CASE WHEN decision = 'approve' THEN 1 ELSE 0 END) AS approved
FROM scored
GROUP BY substr(captured_at, 1, 7), model_version
ORDER BY cohort, model_version
