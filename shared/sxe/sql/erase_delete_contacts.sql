-- Contact points go with their contact (ON DELETE CASCADE); they are counted first.
WITH points AS (SELECT count(*) AS removed FROM contact.contact_points WHERE contact_id = ANY(%(contact_ids)s)),
     gone AS (DELETE FROM contact.contacts WHERE id = ANY(%(contact_ids)s) RETURNING 1)
SELECT (SELECT removed FROM points) AS contact_points, (SELECT count(*) FROM gone) AS contacts;
