SELECT name, pools, contact_fields, schema_version, rate_capacity, rate_per_second, created_at, revoked_at
  FROM ops.api_consumers
 ORDER BY name;
