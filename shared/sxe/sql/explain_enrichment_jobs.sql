-- The enrichment jobs of a card, without the payload's request (it contains the person's
-- name), and whether any failed attempt left a provider's breaker open. `cancel_reason` is
-- the message of the entry that cancelled the job before any call, when its class is one of
-- %(cancel_classes)s, whose messages the worker writes without contact data. A provider's
-- error message is never read.
SELECT job.id,
       job.payload ->> 'provider' AS provider,
       job.state,
       job.attempts,
       job.max_attempts,
       job.run_after,
       job.last_error ->> 'class' AS last_error_class,
       (job.last_error ->> 'status_code')::integer AS last_error_status_code,
       CASE WHEN job.state = 'cancelled' AND job.last_error ->> 'class' = ANY (%(cancel_classes)s::text[])
            THEN job.last_error ->> 'message' END AS cancel_reason,
       EXISTS (SELECT 1 FROM jsonb_array_elements(job.errors) AS entry
                WHERE entry ->> 'breaker' = 'open') AS opened_breaker,
       job.created_at,
       job.updated_at
  FROM ops.jobs AS job
 WHERE job.queue = %(queue)s AND job.payload ->> 'card_id' = %(card_id)s::text
 ORDER BY job.id;
