-- Cards of other people that went out in the given bundles and are still marked handed off.
SELECT DISTINCT card.id
  FROM ops.bundle_cards AS link
  JOIN execution.lead_cards AS card ON card.id = link.card_id
 WHERE link.bundle_id = ANY(%(bundle_ids)s)
   AND card.readiness = 'handed_off'
   AND NOT card.id = ANY(%(card_ids)s)
 ORDER BY card.id;
