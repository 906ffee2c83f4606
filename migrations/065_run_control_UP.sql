-- Re-run and cancel from the run itself (issue 13, Deliver 1).
-- - status `cancelled`: a queued run cancelled before any runner took it, or a running one stopped on
--   request before every store ran (the stores it never ran are `skipped`). Not a finished outcome
--   for the statistics (success + partial + failed), like queued and running.
-- - rerun_of: the execution a run repeats (POST /api/etl/executions/{id}/rerun), so the detail shows
--   the link both ways; rerun_scope says whether it repeats every store or only the failed ones.
-- - cancel_requested_at/by: a stop asked of a running run. Every runner reads it (with the part's
--   execution row and with its heartbeat) and stops the run at the next store/page boundary.
ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('queued', 'running', 'success', 'partial', 'failed', 'cancelled'));

ALTER TABLE etl_executions
    ADD COLUMN rerun_of INTEGER REFERENCES etl_executions (id) ON DELETE SET NULL,
    ADD COLUMN rerun_scope VARCHAR(10),
    ADD COLUMN cancel_requested_at TIMESTAMPTZ,
    ADD COLUMN cancel_requested_by TEXT,
    ADD CONSTRAINT chk_rerun_scope CHECK (rerun_scope IS NULL OR rerun_scope IN ('failed', 'all'));

-- "Re-runs of this execution" in its detail.
CREATE INDEX idx_etl_executions_rerun_of ON etl_executions (rerun_of) WHERE rerun_of IS NOT NULL;
