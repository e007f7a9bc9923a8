-- Every queue name that has a job, for the error that names the known queues.
SELECT DISTINCT queue FROM ops.jobs ORDER BY queue;
