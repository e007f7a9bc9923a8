SELECT id, queue, state FROM ops.jobs WHERE id = ANY (%(ids)s::bigint[]);
