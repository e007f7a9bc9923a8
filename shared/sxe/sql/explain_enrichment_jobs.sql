-- The enrichment jobs of a card, without the payload's request (it contains the person's
-- name), and whether any failed attempt left a provider's breaker open.
SELECT job.id,
       job.payload ->> 'provider' AS provider,
       job.state,
       job.attempts,
       job.max_attempts,
       job.run_after,
       job.last_error ->> 'class' AS last_error_class,
       (job.last_error ->> 'status_code')::integer AS last_error_status_code,
       EXISTS (SELECT 1 FROM jsonb_array_elements(job.errors) AS entry
                WHERE entry ->> 'breaker' = 'open') AS opened_breaker,
       job.created_at,
       job.updated_at
  FROM ops.jobs AS job
 WHERE job.queue = %(queue)s AND job.payload ->> 'card_id' = %(card_id)s::text
 ORDER BY job.id;
