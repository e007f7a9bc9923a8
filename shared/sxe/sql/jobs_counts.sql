SELECT state, count(*) AS jobs FROM ops.jobs WHERE queue = %(queue)s GROUP BY state;
