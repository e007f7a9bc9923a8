-- No row back means an earlier delivery of this request_id was already written.
INSERT INTO ops.apollo_callback_deliveries (request_id, body_sha256, phones)
VALUES (%(request_id)s, %(body_sha256)s, %(phones)s)
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id;
