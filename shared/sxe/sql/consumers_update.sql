-- Change an active consumer's settings; a null parameter keeps the setting. Its key and
-- queue stay. A smaller burst also caps its current tokens. Returns the settings
-- before and after the change.
WITH previous AS (
    SELECT id, pools, contact_fields, schema_version, rate_capacity, rate_per_second
      FROM ops.api_consumers
     WHERE name = %(name)s AND revoked_at IS NULL
       FOR UPDATE
)
UPDATE ops.api_consumers AS consumer
   SET pools = coalesce(%(pools)s::text[], consumer.pools),
       contact_fields = coalesce(%(contact_fields)s::text[], consumer.contact_fields),
       schema_version = coalesce(%(schema_version)s::text, consumer.schema_version),
       rate_capacity = coalesce(%(rate_capacity)s::double precision, consumer.rate_capacity),
       rate_per_second = coalesce(%(rate_per_second)s::double precision, consumer.rate_per_second),
       tokens = least(consumer.tokens, coalesce(%(rate_capacity)s::double precision, consumer.rate_capacity))
  FROM previous
 WHERE consumer.id = previous.id
RETURNING
    consumer.id,
    jsonb_build_object(
        'pools', previous.pools, 'contact_fields', previous.contact_fields,
        'schema_version', previous.schema_version, 'burst', previous.rate_capacity,
        'rate_per_second', previous.rate_per_second
    ) AS before,
    jsonb_build_object(
        'pools', consumer.pools, 'contact_fields', consumer.contact_fields,
        'schema_version', consumer.schema_version, 'burst', consumer.rate_capacity,
        'rate_per_second', consumer.rate_per_second
    ) AS after;
