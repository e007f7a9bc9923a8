INSERT INTO execution.people (id)
SELECT unnest(%(person_ids)s::uuid[]);
