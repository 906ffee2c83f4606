DROP INDEX IF EXISTS idx_etl_executions_status_records;
DROP INDEX IF EXISTS idx_etl_executions_status_duration;
DROP INDEX IF EXISTS idx_etl_executions_name_records;
DROP INDEX IF EXISTS idx_etl_executions_name_duration;
DROP INDEX IF EXISTS idx_etl_executions_records_list;
DROP INDEX IF EXISTS idx_etl_executions_duration_list;
