-- Copy a remembered contact's points into the contact a card already holds, when an
-- earlier provider of the waterfall gave the card its own contact. Points the card
-- already has keep their values.
INSERT INTO contact.contact_points (
    contact_id, kind, value, value_sha256, status, line_type, dnc_status, scrubbed_at,
    source, adapter_version, simulated
)
SELECT %(contact_id)s, kind, value, value_sha256, status, line_type, dnc_status, scrubbed_at,
       source, adapter_version, simulated
  FROM contact.contact_points
 WHERE contact_id = %(source_contact_id)s
ON CONFLICT (contact_id, kind, value_sha256) DO NOTHING;
