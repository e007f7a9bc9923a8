SELECT EXISTS (SELECT FROM social.raw_records WHERE content_hash = %(content_hash)s) AS stored;
