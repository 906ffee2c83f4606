-- Rollback of 090: the day counts, their trigger and functions; 085's retention and 051's rebuild
-- as they were.
DROP FUNCTION etl_history_retention(INTEGER, BOOLEAN, TIMESTAMPTZ);
ALTER FUNCTION etl_history_retention_drop(INTEGER, BOOLEAN, TIMESTAMPTZ) RENAME TO etl_history_retention;

DROP FUNCTION etl_history_counts_forget(REGCLASS, REGCLASS);
DROP FUNCTION etl_stats_rebuild();
ALTER FUNCTION etl_stats_rebuild_rollups() RENAME TO etl_stats_rebuild;
DROP TRIGGER etl_executions_day_counts_truncated ON etl_executions;
DROP TRIGGER etl_executions_day_counts_update ON etl_executions;
DROP TRIGGER etl_executions_day_counts ON etl_executions;
DROP FUNCTION etl_execution_day_counts_truncated();
DROP TRIGGER etl_execution_details_day_counts_truncated ON etl_execution_details;
DROP TRIGGER etl_execution_details_day_counts_update ON etl_execution_details;
DROP TRIGGER etl_execution_details_day_counts ON etl_execution_details;
DROP FUNCTION etl_execution_details_day_counts_truncated();
DROP FUNCTION etl_execution_details_day_counts_keep();
DROP FUNCTION etl_execution_details_day_counts_of(REGCLASS);
DROP FUNCTION etl_execution_day_counts_keep();
DROP FUNCTION etl_execution_day_counts_of(REGCLASS);
DROP FUNCTION etl_execution_day_key(TIMESTAMPTZ);
DROP TABLE etl_execution_day_counts;
DROP FUNCTION etl_first_id_not_started_before(TIMESTAMPTZ);
DROP TRIGGER etl_executions_backdated ON etl_executions;
DROP FUNCTION etl_history_backdated_rebuild();
DROP FUNCTION etl_history_backdated_keep();
DROP FUNCTION etl_id_month_start(INTEGER);
DROP FUNCTION etl_month_first_id_of(INTEGER);
DROP TABLE etl_history_backdated_months;

-- 085's etl_month_first_id, unsaturated.
CREATE OR REPLACE FUNCTION etl_month_first_id(p_at TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((extract(YEAR FROM p_at AT TIME ZONE 'UTC')::int - 2000) * 12
            + extract(MONTH FROM p_at AT TIME ZONE 'UTC')::int - 1) * 2097152
$$;
