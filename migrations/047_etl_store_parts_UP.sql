-- One run, many runners (issue 12): a queued or scheduled execution fans out into one pg-boss job per
-- store on the `etl-tienda` queue, which any runner may take; the execution closes when its last part
-- finishes. `parts_pending` counts the parts not finished yet (decremented in the statement that
-- finishes a store: the part that brings it to 0 closes the execution). NULL for runs that are not
-- fanned out (the CLI runs its stores in its own process).
ALTER TABLE etl_executions ADD COLUMN parts_pending INTEGER CHECK (parts_pending >= 0);

-- Standard policy: parts of one run go to any runner at once. Retried soon when their worker dies
-- (heartbeat 60 s, RUNNER_STALE_AFTER_S; the runner re-applies its configured value on start).
SELECT pgboss.create_queue('etl-tienda', '{
  "policy": "standard", "retryLimit": 3, "retryDelay": 5, "retryBackoff": true, "retryDelayMax": 600,
  "expireInSeconds": 3600, "heartbeatSeconds": 60, "deleteAfterSeconds": 604800
}'::jsonb);
