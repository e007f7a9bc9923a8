SELECT queue, state, count(*) AS jobs FROM ops.jobs GROUP BY queue, state ORDER BY queue, state;
