-- Queued and running jobs of the cards are cancelled; every job of the cards keeps only the
-- card id in its payload, because the lookup request holds the person's name. A worker still
-- holding a cancelled job finds its lease gone and its result is discarded.
WITH touched AS (
    UPDATE ops.jobs
       SET state = CASE WHEN state IN ('queued', 'running') THEN 'cancelled' ELSE state END,
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
SELECT count(*) FILTER (WHERE previous IN ('queued', 'running')) AS cancelled, count(*) AS scrubbed FROM touched;
