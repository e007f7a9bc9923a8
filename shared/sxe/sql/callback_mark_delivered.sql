UPDATE ops.apollo_phone_requests SET delivered_at = clock_timestamp() WHERE request_id = %(request_id)s;
