-- Bundles whose expiry has passed, oldest first, kept in a store this run can reach.
-- Their objects are deleted before their rows, so a crash in between leaves rows to retry.
SELECT id, store, data_key, manifest_key
  FROM ops.bundles
 WHERE expires_at < %(now)s
   AND store = ANY(%(stores)s)
 ORDER BY expires_at, id
 LIMIT %(batch)s;
