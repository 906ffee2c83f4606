-- Rollback of 036: removes the triggers, functions, rollups, counts and the store rows'
-- copies of their execution's state, leaving 035's schema.
DROP TRIGGER IF EXISTS etl_execution_details_truncated ON etl_execution_details;
DROP TRIGGER IF EXISTS etl_executions_truncated ON etl_executions;
DROP TRIGGER IF EXISTS etl_execution_details_rollup_update ON etl_execution_details;
DROP TRIGGER IF EXISTS etl_execution_details_rollup ON etl_execution_details;
DROP TRIGGER IF EXISTS etl_execution_details_inherit ON etl_execution_details;
DROP TRIGGER IF EXISTS etl_executions_rollup_update ON etl_executions;
DROP TRIGGER IF EXISTS etl_executions_rollup ON etl_executions;

DROP FUNCTION IF EXISTS etl_stats_set_timezone(TEXT);
DROP FUNCTION IF EXISTS etl_stats_rebuild();
DROP FUNCTION IF EXISTS etl_stats_truncated();
DROP FUNCTION IF EXISTS etl_execution_details_rollup();
DROP FUNCTION IF EXISTS etl_execution_details_inherit();
DROP FUNCTION IF EXISTS etl_executions_rollup();

DROP TABLE IF EXISTS etl_stats_fallos_day;
DROP TABLE IF EXISTS etl_stats_tienda_month;
DROP TABLE IF EXISTS etl_stats_tienda_day;
DROP TABLE IF EXISTS etl_stats_tienda_hour;
DROP TABLE IF EXISTS etl_stats_exec_day;
DROP TABLE IF EXISTS etl_stats_exec_hour;
DROP TABLE IF EXISTS etl_stats_config;
DROP TABLE IF EXISTS etl_execution_counts;

DROP INDEX IF EXISTS idx_etl_details_tienda_list;
ALTER TABLE etl_execution_details
    DROP COLUMN IF EXISTS execution_finished,
    DROP COLUMN IF EXISTS execution_etl_name,
    DROP COLUMN IF EXISTS execution_started_at;
