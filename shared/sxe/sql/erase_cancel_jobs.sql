-- Queued, running and dead jobs of the cards are cancelled, and dead ones keep their error
-- history. No job of an erased card can be useful again, and a dead one would keep the
-- dead_jobs alarm firing. Every job of the cards keeps only the card id in its payload,
-- because the lookup request contains the person's name. A worker still holding a cancelled job
-- finds its lease gone and its result is discarded.
WITH touched AS (
    UPDATE ops.jobs
       SET state = CASE WHEN state IN ('queued', 'running', 'dead') THEN 'cancelled' ELSE state END,
           payload = jsonb_build_object('card_id', payload ->> 'card_id', 'erased_by', %(request_id)s::text),
           dedupe_key = NULL,
           lease_token = NULL,
           lease_expires_at = NULL,
           updated_at = clock_timestamp()
      FROM (SELECT id, state AS previous FROM ops.jobs
             WHERE payload ->> 'card_id' = ANY(%(card_id_texts)s) FOR UPDATE) AS before
     WHERE jobs.id = before.id
    RETURNING before.previous
)
SELECT count(*) FILTER (WHERE previous IN ('queued', 'running')) AS cancelled,
       count(*) FILTER (WHERE previous = 'dead') AS dead_closed,
       count(*) AS scrubbed
  FROM touched;
