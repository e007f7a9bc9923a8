SELECT outcome, contact_id, remembered_until
  FROM ops.lookup_memory
 WHERE fingerprint = %(fingerprint)s AND remembered_until > clock_timestamp();
