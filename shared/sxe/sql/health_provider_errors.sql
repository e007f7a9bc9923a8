SELECT provider, calls, errors FROM ops.provider_error_rates(%(window_seconds)s) ORDER BY provider;
