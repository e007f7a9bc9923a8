-- A card is re-tagged when one of its profiles changed in a transaction that the card's
-- last tagging pass could not see. Time stamps cannot tell that: a profile is stamped when
-- its transaction starts, so a change that commits after a tagging pass can carry an
-- earlier stamp than the card, and so can a change followed by any other update of the card.
-- Each profile now records the id of the transaction that last changed it, and each card
-- the snapshot its labels were computed under; `pg_visible_in_snapshot` compares the two.

-- Rows written before this migration get FrozenTransactionId (2), which every snapshot
-- sees as committed. A constant default fills existing rows without rewriting the table.
-- New rows take the id of the transaction inserting them, and the statements that update
-- a profile's content set it themselves.
ALTER TABLE social.profiles ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '2';
ALTER TABLE social.profiles ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();

-- NULL means the card's labels were not computed from its current profiles, so the next
-- tagging pass takes the card: a new card, or one that lost a profile.
ALTER TABLE execution.lead_cards ADD COLUMN tagged_snapshot pg_snapshot;

-- A tagged card whose profiles were all stamped no later than the card was up to date by
-- the old rule, so it gets this transaction's snapshot, which sees every earlier profile
-- change. A card that the old rule still had to re-tag keeps NULL and is re-tagged. The
-- cards feed's position (updated_xid) is not touched: its trigger ignores this column.
UPDATE execution.lead_cards AS card
   SET tagged_snapshot = pg_current_snapshot()
 WHERE card.ruleset_version IS NOT NULL
   AND NOT EXISTS (
        SELECT 1
          FROM execution.card_profiles AS link
          JOIN social.profiles AS profile ON profile.id = link.profile_id
         WHERE link.card_id = card.id AND profile.updated_at > card.updated_at
   );
