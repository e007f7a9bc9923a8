-- The dead enrichment jobs that %(ids)s or %(queue)s choose (null: any), with their card's
-- readiness, null when the card is gone.
SELECT job.id, (job.payload ->> 'card_id')::uuid AS card_id, card.readiness
  FROM ops.jobs AS job
  LEFT JOIN execution.lead_cards AS card ON card.id = (job.payload ->> 'card_id')::uuid
 WHERE job.state = 'dead'
   AND job.queue = %(enrich_queue)s
   AND (%(ids)s::bigint[] IS NULL OR job.id = ANY (%(ids)s::bigint[]))
   AND (%(queue)s::text IS NULL OR job.queue = %(queue)s)
 ORDER BY job.id
   FOR UPDATE OF job;
