-- Take one rate token: 0 when taken, else the seconds to wait, NULL for an unknown
-- provider. The refill and the Retry-After check are in ops.take_provider_token
-- (migration 0150), whose UPDATE plan the server keeps for the session.
SELECT ops.take_provider_token(%(provider)s) AS wait_seconds;
