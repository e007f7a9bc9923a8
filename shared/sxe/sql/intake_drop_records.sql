-- Replace the records at %(indexes)s (0-based) of one waiting delivery by null, keeping
-- every other record at its index, which quarantine locations name.
UPDATE intake.webhook_records
   SET records = (
       SELECT jsonb_agg(CASE WHEN position - 1 = ANY (%(indexes)s::int[]) THEN 'null'::jsonb ELSE item END
                        ORDER BY position)
         FROM jsonb_array_elements(records) WITH ORDINALITY AS record (item, position)
   )
 WHERE batch_id = %(batch_id)s;
