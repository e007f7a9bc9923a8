-- Enriched cards are complete once their contact data is stored: they become ready.
UPDATE execution.lead_cards
   SET readiness = 'ready', updated_at = clock_timestamp()
 WHERE pool = %(pool)s AND readiness = 'enriched'
RETURNING id;
