-- Forget a claim whose call failed on the server, so a retry runs it again.
DELETE FROM ops.api_idempotency
 WHERE consumer_id = %(consumer_id)s AND key = %(key)s AND state = 'started';
