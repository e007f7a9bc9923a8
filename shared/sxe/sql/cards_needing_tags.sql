-- Cards never tagged, tagged by another ruleset version, or with a profile changed by a
-- transaction that the snapshot of their last tagging pass cannot see, because it was still
-- running or started later. Other card updates, such as readiness moves, leave the snapshot
-- unchanged, so they cannot hide a profile change.
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
