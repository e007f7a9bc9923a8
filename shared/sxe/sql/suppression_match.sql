SELECT identifier_hmac FROM ops.suppressions WHERE identifier_hmac = ANY(%(hmacs)s::text[]);
