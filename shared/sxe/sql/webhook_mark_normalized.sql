UPDATE social.webhook_batches SET normalized_at = now() WHERE id = %(id)s;
