-- Record the ruleset version and the snapshot the cards' labels were computed under, which
-- `cards_profiles` returns, so that later passes re-tag a card only for changes it missed.
-- %(snapshot)s is NULL when none of the cards has a profile left. This statement's own
-- snapshot is used then, because no profile was read.
UPDATE execution.lead_cards
   SET ruleset_version = %(ruleset_version)s,
       tagged_snapshot = coalesce(%(snapshot)s::pg_snapshot, pg_current_snapshot()),
       updated_at = clock_timestamp()
 WHERE id = ANY(%(card_ids)b::uuid[]);
