-- Rollback of 051: the origin/phase rollups, their triggers and functions; 036's rebuild as it was.
DROP TRIGGER IF EXISTS etl_executions_origen_truncated ON etl_executions;
DROP TRIGGER IF EXISTS etl_executions_origen_rollup_update ON etl_executions;
DROP TRIGGER IF EXISTS etl_executions_origen_rollup ON etl_executions;

CREATE OR REPLACE FUNCTION etl_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz TEXT := (SELECT c.tz FROM etl_stats_config c);
BEGIN
    LOCK TABLE etl_executions, etl_execution_details IN SHARE MODE;
    TRUNCATE etl_execution_counts, etl_stats_exec_hour, etl_stats_exec_day, etl_stats_tienda_hour,
        etl_stats_tienda_day, etl_stats_tienda_month, etl_stats_fallos_day;

    INSERT INTO etl_execution_counts (dim, val, n)
    SELECT 'all', '', count(*) FROM etl_executions HAVING count(*) > 0
    UNION ALL SELECT 'etl_name', etl_name, count(*) FROM etl_executions GROUP BY etl_name
    UNION ALL SELECT 'status', status, count(*) FROM etl_executions GROUP BY status
    UNION ALL SELECT 'triggered_by', triggered_by, count(*) FROM etl_executions
        WHERE triggered_by IS NOT NULL GROUP BY triggered_by
    UNION ALL SELECT 'error_phase', error_phase, count(*) FROM etl_executions
        WHERE error_phase IS NOT NULL GROUP BY error_phase
    UNION ALL SELECT 'error_category', error_category, count(*) FROM etl_executions
        WHERE error_category IS NOT NULL GROUP BY error_category
    UNION ALL SELECT 'hour', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'), count(*)
        FROM etl_executions WHERE started_at IS NOT NULL GROUP BY 2
    UNION ALL SELECT 'tienda', tienda_id, count(*) FROM etl_execution_details
        WHERE execution_started_at IS NOT NULL GROUP BY tienda_id;

    INSERT INTO etl_stats_exec_hour
    SELECT date_trunc('hour', started_at, 'UTC'), etl_name, status, error_phase, error_category, count(*),
        coalesce(sum(duration_seconds), 0), count(duration_seconds), sum(records_loaded), sum(duplicates_skipped)
    FROM etl_executions WHERE status IN ('success', 'partial', 'failed')
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO etl_stats_exec_day
    SELECT (started_at AT TIME ZONE tz)::date, etl_name, status, error_phase, error_category, count(*),
        coalesce(sum(duration_seconds), 0), count(duration_seconds), sum(records_loaded), sum(duplicates_skipped)
    FROM etl_executions WHERE status IN ('success', 'partial', 'failed')
    GROUP BY 1, 2, 3, 4, 5;

    INSERT INTO etl_stats_tienda_hour
    SELECT date_trunc('hour', execution_started_at, 'UTC'), execution_etl_name, tienda_id, tienda_nombre, error_category,
        count(*), count(*) FILTER (WHERE status = 'failed')
    FROM etl_execution_details WHERE execution_finished
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO etl_stats_tienda_day
    SELECT (execution_started_at AT TIME ZONE tz)::date, execution_etl_name, tienda_id, tienda_nombre, error_category,
        count(*), count(*) FILTER (WHERE status = 'failed')
    FROM etl_execution_details WHERE execution_finished
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO etl_stats_tienda_month
    SELECT date_trunc('month', fecha)::date, etl_name, tienda_id, tienda_nombre, error_category, sum(n), sum(fallos)
    FROM etl_stats_tienda_day GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO etl_stats_fallos_day
    SELECT fecha, etl_name, tienda_id, sum(fallos) FROM etl_stats_tienda_day
    GROUP BY 1, 2, 3 HAVING sum(fallos) <> 0;
END $$;

DROP FUNCTION IF EXISTS etl_stats_origen_rebuild();
DROP FUNCTION IF EXISTS etl_stats_origen_truncated();
DROP FUNCTION IF EXISTS etl_executions_origen_rollup();
DROP TABLE IF EXISTS etl_stats_origen_day;
DROP TABLE IF EXISTS etl_stats_origen_hour;
