-- The dead enrichment jobs that %(ids)s or %(queue)s choose (null: any), with their card's
-- readiness, null when the card is gone. `decided_since` is true when the gate decided
-- the card again after the job was enqueued, so the job's failure is no longer the card's
-- latest enrichment outcome.
SELECT job.id, (job.payload ->> 'card_id')::uuid AS card_id, card.readiness,
       EXISTS (SELECT FROM ops.enrichment_decisions AS later
                WHERE later.card_id = card.id
                  AND later.decided_at > job.created_at
                  AND later.job_id IS DISTINCT FROM job.id) AS decided_since
  FROM ops.jobs AS job
  LEFT JOIN execution.lead_cards AS card ON card.id = (job.payload ->> 'card_id')::uuid
 WHERE job.state = 'dead'
   AND job.queue = %(enrich_queue)s
   AND (%(ids)s::bigint[] IS NULL OR job.id = ANY (%(ids)s::bigint[]))
   AND (%(queue)s::text IS NULL OR job.queue = %(queue)s)
 ORDER BY job.id
   FOR UPDATE OF job;
