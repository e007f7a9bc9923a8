SELECT records FROM intake.webhook_records WHERE batch_id = %(batch_id)s;
