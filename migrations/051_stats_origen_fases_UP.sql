-- Statistics of the plan's §6.2 "Distribución por origen" and "Tiempo promedio por fase"
-- (GET /api/etl/stats `distribucion_por_origen`, `tiempo_promedio_por_fase`) at 1M executions:
-- finished executions per UTC hour and per TZ_TIENDAS day (as 036's rollups), by ETL, origin and
-- status, with the sums and counts of their durations and of each phase's duration. Kept by
-- their own triggers (036's are left as they are); etl_stats_rebuild() rebuilds them too.

CREATE TABLE etl_stats_origen_hour (
    bucket TIMESTAMPTZ NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    triggered_by VARCHAR(50),
    status VARCHAR(20) NOT NULL,
    n INTEGER NOT NULL,
    duration_sum NUMERIC NOT NULL,
    duration_n INTEGER NOT NULL,
    extract_sum NUMERIC NOT NULL,
    extract_n INTEGER NOT NULL,
    transform_sum NUMERIC NOT NULL,
    transform_n INTEGER NOT NULL,
    load_sum NUMERIC NOT NULL,
    load_n INTEGER NOT NULL,
    CONSTRAINT uq_etl_stats_origen_hour UNIQUE NULLS NOT DISTINCT (bucket, etl_name, triggered_by, status)
);
CREATE TABLE etl_stats_origen_day (
    fecha DATE NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    triggered_by VARCHAR(50),
    status VARCHAR(20) NOT NULL,
    n INTEGER NOT NULL,
    duration_sum NUMERIC NOT NULL,
    duration_n INTEGER NOT NULL,
    extract_sum NUMERIC NOT NULL,
    extract_n INTEGER NOT NULL,
    transform_sum NUMERIC NOT NULL,
    transform_n INTEGER NOT NULL,
    load_sum NUMERIC NOT NULL,
    load_n INTEGER NOT NULL,
    CONSTRAINT uq_etl_stats_origen_day UNIQUE NULLS NOT DISTINCT (fecha, etl_name, triggered_by, status)
);

-- One execution row's share (±1) of the two rollups, OLD and NEW summed first and written in key
-- order (same reasoning as 036's etl_executions_rollup: no deadlock, no write for a no-op).
CREATE FUNCTION etl_executions_origen_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz TEXT := (SELECT c.tz FROM etl_stats_config c);
    o_fin INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('success', 'partial', 'failed') THEN -1 ELSE 0 END;
    n_fin INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ('success', 'partial', 'failed') THEN 1 ELSE 0 END;
BEGIN
    IF o_fin = 0 AND n_fin = 0 THEN
        RETURN NULL;
    END IF;
    WITH v AS (
        SELECT * FROM (VALUES
            (OLD.started_at, OLD.etl_name, OLD.triggered_by, OLD.status, o_fin, OLD.duration_seconds,
             OLD.extract_duration_seconds, OLD.transform_duration_seconds, OLD.load_duration_seconds),
            (NEW.started_at, NEW.etl_name, NEW.triggered_by, NEW.status, n_fin, NEW.duration_seconds,
             NEW.extract_duration_seconds, NEW.transform_duration_seconds, NEW.load_duration_seconds)
        ) AS v(started_at, etl_name, triggered_by, status, s, dur, ext, tra, loa)
        WHERE v.s <> 0
    ),
    d AS (
        SELECT date_trunc('hour', v.started_at, 'UTC') AS bucket, (v.started_at AT TIME ZONE tz)::date AS fecha,
            v.etl_name, v.triggered_by, v.status, v.s AS n,
            v.s * coalesce(v.dur, 0) AS duration_sum, v.s * (v.dur IS NOT NULL)::int AS duration_n,
            v.s * coalesce(v.ext, 0) AS extract_sum, v.s * (v.ext IS NOT NULL)::int AS extract_n,
            v.s * coalesce(v.tra, 0) AS transform_sum, v.s * (v.tra IS NOT NULL)::int AS transform_n,
            v.s * coalesce(v.loa, 0) AS load_sum, v.s * (v.loa IS NOT NULL)::int AS load_n
        FROM v
    ),
    by_hour AS (
        INSERT INTO etl_stats_origen_hour AS h
        SELECT bucket, etl_name, triggered_by, status, sum(n), sum(duration_sum), sum(duration_n), sum(extract_sum),
            sum(extract_n), sum(transform_sum), sum(transform_n), sum(load_sum), sum(load_n)
        FROM d GROUP BY 1, 2, 3, 4
        HAVING sum(n) <> 0 OR sum(duration_sum) <> 0 OR sum(duration_n) <> 0 OR sum(extract_sum) <> 0
            OR sum(extract_n) <> 0 OR sum(transform_sum) <> 0 OR sum(transform_n) <> 0 OR sum(load_sum) <> 0
            OR sum(load_n) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (bucket, etl_name, triggered_by, status) DO UPDATE SET
            n = h.n + excluded.n, duration_sum = h.duration_sum + excluded.duration_sum,
            duration_n = h.duration_n + excluded.duration_n, extract_sum = h.extract_sum + excluded.extract_sum,
            extract_n = h.extract_n + excluded.extract_n, transform_sum = h.transform_sum + excluded.transform_sum,
            transform_n = h.transform_n + excluded.transform_n, load_sum = h.load_sum + excluded.load_sum,
            load_n = h.load_n + excluded.load_n
    )
    INSERT INTO etl_stats_origen_day AS h
    SELECT fecha, etl_name, triggered_by, status, sum(n), sum(duration_sum), sum(duration_n), sum(extract_sum),
        sum(extract_n), sum(transform_sum), sum(transform_n), sum(load_sum), sum(load_n)
    FROM d GROUP BY 1, 2, 3, 4
    HAVING sum(n) <> 0 OR sum(duration_sum) <> 0 OR sum(duration_n) <> 0 OR sum(extract_sum) <> 0
        OR sum(extract_n) <> 0 OR sum(transform_sum) <> 0 OR sum(transform_n) <> 0 OR sum(load_sum) <> 0
        OR sum(load_n) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (fecha, etl_name, triggered_by, status) DO UPDATE SET
        n = h.n + excluded.n, duration_sum = h.duration_sum + excluded.duration_sum,
        duration_n = h.duration_n + excluded.duration_n, extract_sum = h.extract_sum + excluded.extract_sum,
        extract_n = h.extract_n + excluded.extract_n, transform_sum = h.transform_sum + excluded.transform_sum,
        transform_n = h.transform_n + excluded.transform_n, load_sum = h.load_sum + excluded.load_sum,
        load_n = h.load_n + excluded.load_n;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_origen_rollup
    AFTER INSERT OR DELETE ON etl_executions
    FOR EACH ROW EXECUTE FUNCTION etl_executions_origen_rollup();
-- Heartbeats, live counters and diagnostics touch nothing counted here: skip them.
CREATE TRIGGER etl_executions_origen_rollup_update
    AFTER UPDATE ON etl_executions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.started_at IS DISTINCT FROM NEW.started_at
        OR OLD.etl_name IS DISTINCT FROM NEW.etl_name
        OR OLD.triggered_by IS DISTINCT FROM NEW.triggered_by
        OR (NEW.status IN ('success', 'partial', 'failed') AND (
            OLD.duration_seconds IS DISTINCT FROM NEW.duration_seconds
            OR OLD.extract_duration_seconds IS DISTINCT FROM NEW.extract_duration_seconds
            OR OLD.transform_duration_seconds IS DISTINCT FROM NEW.transform_duration_seconds
            OR OLD.load_duration_seconds IS DISTINCT FROM NEW.load_duration_seconds)))
    EXECUTE FUNCTION etl_executions_origen_rollup();

CREATE FUNCTION etl_stats_origen_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE etl_stats_origen_hour, etl_stats_origen_day;
    RETURN NULL;
END $$;
CREATE TRIGGER etl_executions_origen_truncated AFTER TRUNCATE ON etl_executions
    FOR EACH STATEMENT EXECUTE FUNCTION etl_stats_origen_truncated();

-- Recomputes both rollups from etl_executions (etl_stats_rebuild() calls it).
CREATE FUNCTION etl_stats_origen_rebuild() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    tz TEXT := (SELECT c.tz FROM etl_stats_config c);
BEGIN
    LOCK TABLE etl_executions IN SHARE MODE;
    TRUNCATE etl_stats_origen_hour, etl_stats_origen_day;
    -- 0.00, not 0: the same numeric scale as the triggers' sums of DECIMAL(10,2) columns.
    INSERT INTO etl_stats_origen_hour
    SELECT date_trunc('hour', started_at, 'UTC'), etl_name, triggered_by, status, count(*),
        coalesce(sum(duration_seconds), 0.00), count(duration_seconds),
        coalesce(sum(extract_duration_seconds), 0.00), count(extract_duration_seconds),
        coalesce(sum(transform_duration_seconds), 0.00), count(transform_duration_seconds),
        coalesce(sum(load_duration_seconds), 0.00), count(load_duration_seconds)
    FROM etl_executions WHERE status IN ('success', 'partial', 'failed')
    GROUP BY 1, 2, 3, 4;
    INSERT INTO etl_stats_origen_day
    SELECT (started_at AT TIME ZONE tz)::date, etl_name, triggered_by, status, count(*),
        coalesce(sum(duration_seconds), 0.00), count(duration_seconds),
        coalesce(sum(extract_duration_seconds), 0.00), count(extract_duration_seconds),
        coalesce(sum(transform_duration_seconds), 0.00), count(transform_duration_seconds),
        coalesce(sum(load_duration_seconds), 0.00), count(load_duration_seconds)
    FROM etl_executions WHERE status IN ('success', 'partial', 'failed')
    GROUP BY 1, 2, 3, 4;
END $$;

-- 036's rebuild (also run by etl_stats_set_timezone) now rebuilds these rollups too.
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
    -- Migration 051: per origin and phase durations.
    PERFORM etl_stats_origen_rebuild();
END $$;

SELECT etl_stats_origen_rebuild();
