-- The most recently changed jobs, optionally of one queue and one state. Of the payload
-- only the card id is returned, which lookup jobs carry: the rest can hold a person's name.
SELECT id, queue, state, attempts, max_attempts, run_after, updated_at, last_error,
       payload->>'card_id' AS card_id
  FROM ops.jobs
 WHERE (%(queue)s::text IS NULL OR queue = %(queue)s)
   AND (%(state)s::text IS NULL OR state = %(state)s)
 ORDER BY updated_at DESC, id DESC
 LIMIT %(limit)s;
