DROP INDEX IF EXISTS idx_etl_details_tienda_execution;
ALTER TABLE etl_execution_details
    DROP CONSTRAINT IF EXISTS uq_detail_execution_tienda,
    DROP CONSTRAINT IF EXISTS chk_detail_source_system,
    DROP CONSTRAINT IF EXISTS chk_detail_error_phase,
    DROP CONSTRAINT IF EXISTS chk_detail_status,
    DROP COLUMN IF EXISTS network_diagnostics,
    DROP COLUMN IF EXISTS load_duration_seconds,
    DROP COLUMN IF EXISTS transform_duration_seconds,
    DROP COLUMN IF EXISTS extract_duration_seconds,
    DROP COLUMN IF EXISTS current_phase,
    DROP COLUMN IF EXISTS attempts,
    DROP COLUMN IF EXISTS error_detail,
    DROP COLUMN IF EXISTS error_source,
    ALTER COLUMN created_at TYPE TIMESTAMP USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN created_at SET DEFAULT CURRENT_TIMESTAMP,
    ALTER COLUMN finished_at TYPE TIMESTAMP USING finished_at AT TIME ZONE 'UTC',
    ALTER COLUMN started_at TYPE TIMESTAMP USING started_at AT TIME ZONE 'UTC';

DROP INDEX IF EXISTS idx_etl_executions_unfinished;
DROP INDEX IF EXISTS idx_etl_executions_phase_list;
DROP INDEX IF EXISTS idx_etl_executions_category_list;
DROP INDEX IF EXISTS idx_etl_executions_triggered_by;
DROP INDEX IF EXISTS idx_etl_executions_status_list;
DROP INDEX IF EXISTS idx_etl_executions_name_list;
DROP INDEX IF EXISTS idx_etl_executions_list;

-- Rows this migration made possible cannot survive its rollback.
DELETE FROM etl_executions WHERE status = 'queued' OR triggered_by = 'scheduler';
ALTER TABLE etl_executions DROP CONSTRAINT IF EXISTS chk_started_at;
ALTER TABLE etl_executions DROP CONSTRAINT chk_triggered_by;
ALTER TABLE etl_executions ADD CONSTRAINT chk_triggered_by CHECK (
    triggered_by IS NULL OR triggered_by IN ('eventbridge', 'fluxion_admin', 'cli', 'recovery'));
ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('running', 'success', 'partial', 'failed'));

ALTER TABLE etl_executions
    DROP CONSTRAINT IF EXISTS chk_error_category,
    DROP CONSTRAINT IF EXISTS chk_source_system,
    DROP CONSTRAINT IF EXISTS chk_error_source,
    DROP CONSTRAINT IF EXISTS chk_current_phase,
    DROP COLUMN IF EXISTS job_id,
    DROP COLUMN IF EXISTS worker_id,
    DROP COLUMN IF EXISTS heartbeat_at,
    DROP COLUMN IF EXISTS current_phase,
    DROP COLUMN IF EXISTS tienda_ids,
    ALTER COLUMN started_at SET DEFAULT now(),
    ALTER COLUMN started_at SET NOT NULL;
