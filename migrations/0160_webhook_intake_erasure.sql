-- An erasure replaces the waiting webhook records of the erased person by null, in place,
-- so the rest of their delivery is still normalized.
GRANT UPDATE ON intake.webhook_records TO sxe_worker;
