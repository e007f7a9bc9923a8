UPDATE social.ingest_batches
   SET finished_at = now(), records = %(records)s, accepted = %(accepted)s,
       duplicates = %(duplicates)s, quarantined = %(quarantined)s, format = %(format)s
 WHERE id = %(id)s;
