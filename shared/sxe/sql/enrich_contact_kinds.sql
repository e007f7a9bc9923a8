-- The kinds of contact point a contact holds, to tell whether a remembered lookup
-- already has every field the pool wants.
SELECT array(SELECT DISTINCT kind FROM contact.contact_points WHERE contact_id = %(contact_id)s ORDER BY 1) AS kinds;
