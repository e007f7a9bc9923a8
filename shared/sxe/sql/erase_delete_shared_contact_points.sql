-- Tier 2 contact points of other contacts that hold one of the erased person's emails or
-- phone numbers, such as a public_bio result copied from another profile's bio. The
-- person's own contacts are deleted whole by erase_delete_contacts.
WITH gone AS (
    DELETE FROM contact.contact_points
     WHERE value_sha256 = ANY(%(value_hashes)s)
       AND NOT (contact_id = ANY(%(contact_ids)s))
    RETURNING 1
)
SELECT count(*) AS removed FROM gone;
