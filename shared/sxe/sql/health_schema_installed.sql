-- Whether the migrations have run on this database: their table exists and so does the
-- runtime role that every health read runs as. A new, empty database has neither.
SELECT to_regclass('sxe_meta.schema_migrations') IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sxe_api') AS installed;
