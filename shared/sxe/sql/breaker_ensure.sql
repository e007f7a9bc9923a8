INSERT INTO ops.circuit_breakers (provider) VALUES (%(provider)s) ON CONFLICT (provider) DO NOTHING;
