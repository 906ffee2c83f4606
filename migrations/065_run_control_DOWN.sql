-- Back to the five statuses: a cancelled run reads as failed (what the reaper made of an abandoned one).
DROP INDEX IF EXISTS idx_etl_executions_rerun_of;
ALTER TABLE etl_executions
    DROP CONSTRAINT IF EXISTS chk_rerun_scope,
    DROP COLUMN IF EXISTS cancel_requested_by,
    DROP COLUMN IF EXISTS cancel_requested_at,
    DROP COLUMN IF EXISTS rerun_scope,
    DROP COLUMN IF EXISTS rerun_of;
UPDATE etl_executions SET status = 'failed' WHERE status = 'cancelled';
ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('queued', 'running', 'success', 'partial', 'failed'));
