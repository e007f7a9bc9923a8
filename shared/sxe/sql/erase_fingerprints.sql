-- Request fingerprints of the cards' lookups: the keys of their cached results and idempotency records.
SELECT fingerprint FROM ops.enrichment_decisions WHERE card_id = ANY(%(card_ids)s) AND fingerprint IS NOT NULL
UNION
SELECT payload ->> 'fingerprint' FROM ops.jobs
 WHERE payload ->> 'card_id' = ANY(%(card_id_texts)s) AND payload ? 'fingerprint';
