UPDATE ops.api_idempotency
   SET state = 'completed', status_code = %(status_code)s, response_body = %(response_body)s,
       completed_at = clock_timestamp()
 WHERE consumer_id = %(consumer_id)s AND key = %(key)s;
