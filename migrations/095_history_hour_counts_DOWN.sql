-- Rollback of 095: the hour counts, their triggers and functions; 090's rebuild and forgetting as
-- they were.
DROP FUNCTION etl_history_counts_forget(REGCLASS, REGCLASS);
ALTER FUNCTION etl_history_day_counts_forget(REGCLASS, REGCLASS) RENAME TO etl_history_counts_forget;
DROP FUNCTION etl_stats_rebuild();
ALTER FUNCTION etl_stats_rebuild_day_counts() RENAME TO etl_stats_rebuild;
DROP FUNCTION etl_execution_hour_counts_of(REGCLASS, REGCLASS);
DROP TRIGGER etl_execution_details_hour_counts_truncated ON etl_execution_details;
DROP TRIGGER etl_execution_details_hour_counts_update ON etl_execution_details;
DROP TRIGGER etl_execution_details_hour_counts ON etl_execution_details;
DROP FUNCTION etl_execution_details_hour_counts_truncated();
DROP FUNCTION etl_execution_details_hour_counts_keep();
DROP TRIGGER etl_executions_hour_counts_truncated ON etl_executions;
DROP TRIGGER etl_executions_hour_counts_update ON etl_executions;
DROP TRIGGER etl_executions_hour_counts ON etl_executions;
DROP FUNCTION etl_execution_hour_counts_truncated();
DROP FUNCTION etl_execution_hour_counts_keep();
DROP TABLE etl_execution_hour_counts;
