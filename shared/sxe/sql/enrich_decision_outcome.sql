-- The outcome of the lookup a decision enqueued. A later attempt of the same job overwrites it.
UPDATE ops.enrichment_decisions SET outcome = %(outcome)s WHERE job_id = %(job_id)s;
