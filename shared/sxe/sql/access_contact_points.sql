-- Every Tier 2 contact point of the given contacts, with the provider it came from.
SELECT to_jsonb(point) AS point
  FROM contact.contact_points AS point
 WHERE point.contact_id = ANY(%(contact_ids)s)
 ORDER BY point.contact_id, point.kind, point.value;
