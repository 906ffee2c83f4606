-- The pg-boss queues the services use, owned by `npm run migrate` like every other schema object:
-- the history API sends manual runs and gap recoveries to them on a freshly migrated database,
-- before any runner has started. Settings (see runner/src/boss.ts queueOptions, which the runner
-- re-applies on start for the values it derives from its configuration):
--   singleton: at most one active job per queue (no two runs of one ETL at once);
--   3 retries, 5 s then backing off up to 10 min; an hour before a job is deemed hung;
--   heartbeat 60 s (RUNNER_STALE_AFTER_S): a killed worker's job is handed back after that;
--   finished jobs kept 7 days.
SELECT pgboss.create_queue(q.name, '{
  "policy": "singleton", "retryLimit": 3, "retryDelay": 5, "retryBackoff": true, "retryDelayMax": 600,
  "expireInSeconds": 3600, "heartbeatSeconds": 60, "deleteAfterSeconds": 604800
}'::jsonb)
FROM (VALUES ('etl-ventas'), ('etl-inventario')) AS q(name);
