-- Rollback of 033 (plan §8.4): removes exactly what 033 UP added.

DROP INDEX IF EXISTS idx_etl_details_status;
DROP INDEX IF EXISTS idx_etl_details_tienda;
DROP INDEX IF EXISTS idx_etl_details_execution;
DROP TABLE IF EXISTS etl_execution_details;

DROP INDEX IF EXISTS idx_etl_executions_recovery;
DROP INDEX IF EXISTS idx_etl_executions_source;
DROP INDEX IF EXISTS idx_etl_executions_error_phase;

ALTER TABLE etl_executions DROP CONSTRAINT IF EXISTS chk_error_phase;

ALTER TABLE etl_executions
DROP COLUMN IF EXISTS recovered_gap_id,
DROP COLUMN IF EXISTS is_recovery,
DROP COLUMN IF EXISTS network_diagnostics,
DROP COLUMN IF EXISTS records_failed,
DROP COLUMN IF EXISTS records_upserted,
DROP COLUMN IF EXISTS api_errors_count,
DROP COLUMN IF EXISTS api_requests_count,
DROP COLUMN IF EXISTS source_system,
DROP COLUMN IF EXISTS load_duration_seconds,
DROP COLUMN IF EXISTS transform_duration_seconds,
DROP COLUMN IF EXISTS extract_duration_seconds,
DROP COLUMN IF EXISTS error_source,
DROP COLUMN IF EXISTS error_category,
DROP COLUMN IF EXISTS error_phase;
