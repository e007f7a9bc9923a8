UPDATE ops.pull_cursors
   SET cursor = %(cursor)s, pages = pages + 1, records = records + %(records)s,
       done = %(done)s, updated_at = now()
 WHERE connector = %(connector)s AND pull_key = %(pull_key)s;
