-- Jobs per queue and state. With a pool, a lookup job (queue %(lookup_queue)s) counts only
-- when its payload names that pool. An erased lookup job names no pool, so it counts for
-- none. Jobs of the other queues serve every pool and always count.
SELECT queue, state, count(*) AS jobs
  FROM ops.jobs
 WHERE %(pool)s::text IS NULL
    OR queue <> %(lookup_queue)s
    OR payload->>'pool' = %(pool)s
 GROUP BY queue, state
 ORDER BY queue, state;
