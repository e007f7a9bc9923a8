SELECT request_sha256, state, status_code, response_body
  FROM ops.api_idempotency
 WHERE consumer_id = %(consumer_id)s AND key = %(key)s;
