-- The contact a card already has and the kinds of contact point on it, so a
-- waterfall step adds to that contact and knows which wanted fields are still missing.
SELECT card.contact_id,
       array(SELECT DISTINCT point.kind FROM contact.contact_points AS point
              WHERE point.contact_id = card.contact_id ORDER BY 1) AS kinds
  FROM execution.lead_cards AS card
 WHERE card.id = %(card_id)s;
