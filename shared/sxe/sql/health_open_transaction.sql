-- The pid (NULL for a prepared transaction) and age in seconds of the transaction with a
-- transaction id that has been open longest on the server, in any database. Such a
-- transaction holds back the pull feeds (see api_cards_page).
-- pg_stat_activity shows `xact_start` only to the session's own user and to members of
-- pg_read_all_stats, so run this as the session user, not a runtime role. A transaction
-- whose start is hidden has a NULL age and sorts last.
SELECT pid, age_seconds
  FROM (SELECT activity.pid,
               extract(epoch FROM clock_timestamp() - activity.xact_start)::double precision AS age_seconds
          FROM pg_stat_activity AS activity
         WHERE activity.backend_xid IS NOT NULL
           AND activity.pid <> pg_backend_pid()
        UNION ALL
        SELECT NULL,
               extract(epoch FROM clock_timestamp() - prepared.prepared)::double precision
          FROM pg_prepared_xacts AS prepared) AS open_transaction
 ORDER BY age_seconds DESC NULLS LAST
 LIMIT 1;
