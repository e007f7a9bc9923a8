-- Record the environment once; a database that already belongs to one keeps it.
INSERT INTO ops.environment (name) VALUES (%(name)s)
ON CONFLICT (singleton) DO NOTHING;
