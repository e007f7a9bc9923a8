-- A breaker's cool-off in fractional seconds, so short cool-offs (a fast provider, a test
-- with injected faults) are not rounded to whole seconds.
ALTER TABLE ops.circuit_breakers ALTER COLUMN open_seconds TYPE double precision;
ALTER TABLE ops.circuit_breakers ADD CONSTRAINT circuit_breakers_open_seconds_positive CHECK (open_seconds > 0);
ALTER TABLE ops.circuit_breakers ADD CONSTRAINT circuit_breakers_threshold_positive CHECK (failure_threshold > 0);
