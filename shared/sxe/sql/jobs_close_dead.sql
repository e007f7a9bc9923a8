-- Close dead jobs whose work was handed back to the gate or can never be done: they become
-- cancelled, keep their error history, and no longer count as dead.
UPDATE ops.jobs
   SET state = 'cancelled', updated_at = clock_timestamp()
 WHERE id = ANY (%(ids)s::bigint[]) AND state = 'dead';
