SELECT pg_advisory_xact_lock(hashtext('sxe_meta.schema_migrations'));
