SELECT kind, value FROM contact.contact_points WHERE contact_id = ANY(%(contact_ids)s);
