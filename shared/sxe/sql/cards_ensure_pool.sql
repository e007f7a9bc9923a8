INSERT INTO execution.pools (name, intent) VALUES (%(name)s, %(intent)s)
ON CONFLICT (name) DO NOTHING;
