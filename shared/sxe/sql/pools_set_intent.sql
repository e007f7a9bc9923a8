INSERT INTO execution.pools (name, intent) VALUES (%(name)s, %(intent)s)
ON CONFLICT (name) DO UPDATE SET intent = EXCLUDED.intent;
