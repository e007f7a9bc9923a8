-- Jobs per queue and state. With a pool, the jobs whose payload names another pool (the
-- lookup jobs) are left out, and jobs that serve every pool, which name none, stay.
SELECT queue, state, count(*) AS jobs
  FROM ops.jobs
 WHERE %(pool)s::text IS NULL
    OR NOT (payload ? 'pool')
    OR payload->>'pool' = %(pool)s
 GROUP BY queue, state
 ORDER BY queue, state;
