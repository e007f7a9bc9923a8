SELECT DISTINCT contact_id FROM contact.contact_points WHERE kind = %(kind)s AND value_sha256 = %(value_sha256)s;
