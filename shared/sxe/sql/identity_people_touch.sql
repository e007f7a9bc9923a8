UPDATE execution.people SET updated_at = clock_timestamp() WHERE id = ANY(%(person_ids)s);
