-- Returns the name only when this statement created the pool.
INSERT INTO execution.pools (name, intent) VALUES (%(name)s, %(intent)s)
ON CONFLICT (name) DO NOTHING
RETURNING name;
