-- Cards never tagged, tagged by another ruleset version, or with a profile changed by a
-- transaction that the snapshot of their last tagging pass did not see: one still running
-- when it was taken, or one that started later. A readiness move or any other card update
-- leaves the snapshot alone, so it cannot hide such a change.
SELECT card.id, card.readiness
  FROM execution.lead_cards AS card
 WHERE card.pool = %(pool)s
   AND card.readiness NOT IN ('suppressed', 'merged')
   AND (
        card.ruleset_version IS DISTINCT FROM %(ruleset_version)s
        OR card.tagged_snapshot IS NULL
        OR EXISTS (
            SELECT 1
              FROM execution.card_profiles AS link
              JOIN social.profiles AS profile ON profile.id = link.profile_id
             WHERE link.card_id = card.id
               AND NOT pg_visible_in_snapshot(profile.changed_xid, card.tagged_snapshot)
        )
   )
 ORDER BY card.id;
