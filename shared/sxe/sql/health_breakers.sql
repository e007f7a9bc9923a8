SELECT provider, state, consecutive_failures FROM ops.circuit_breakers ORDER BY provider;
