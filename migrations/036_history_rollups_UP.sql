-- What the history API needs to stay fast at 1M executions / 20M store rows (DESIGN §10)
-- while its numbers remain those of the tables themselves, whoever writes the rows (§12):
--
-- 1. Store rows carry their execution's started_at, etl_name and finished-ness, so the
--    history list filtered by store is an index scan in list order, and a store row's share
--    of the statistics depends on that row alone (no trigger-ordering puzzles when one
--    statement updates stores and their execution together, as the reaper does).
-- 2. etl_execution_counts: exact X-Total-Count for the unfiltered list and each single filter
--    (per value; per store; per UTC hour of started_at for a date range).
-- 3. Statistics rollups of finished executions per UTC hour (truncated in UTC whatever the
--    session's zone) and per TZ_TIENDAS day (etl_stats_config.tz). The rolling window
--    (now − dias × 24 h) is answered from whole days, whole hours and the raw rows of the edge.
--
-- All of it is maintained by triggers; etl_stats_rebuild() recomputes 2 and 3 from scratch
-- (after a bulk load with triggers off) and etl_stats_set_timezone() re-buckets the days.

ALTER TABLE etl_execution_details
    ADD COLUMN execution_started_at TIMESTAMPTZ,
    ADD COLUMN execution_etl_name VARCHAR(50),
    ADD COLUMN execution_finished BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE etl_execution_details d
SET execution_started_at = e.started_at,
    execution_etl_name = e.etl_name,
    execution_finished = e.status IN ('success', 'partial', 'failed')
FROM etl_executions e
WHERE e.id = d.execution_id;

-- History list filtered by store: the store's rows in list order (queued executions have none).
CREATE INDEX idx_etl_details_tienda_list ON etl_execution_details
    (tienda_id, execution_started_at DESC NULLS FIRST, execution_id DESC)
    WHERE execution_started_at IS NOT NULL;

CREATE TABLE etl_execution_counts (
    dim VARCHAR(20) NOT NULL,
    val VARCHAR(50) NOT NULL,
    n BIGINT NOT NULL,
    CONSTRAINT etl_execution_counts_pkey PRIMARY KEY (dim, val)
);

CREATE TABLE etl_stats_config (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    tz TEXT NOT NULL
);
INSERT INTO etl_stats_config (tz) VALUES ('America/Caracas');

CREATE TABLE etl_stats_exec_hour (
    bucket TIMESTAMPTZ NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    status VARCHAR(20) NOT NULL,
    error_phase VARCHAR(20),
    error_category VARCHAR(50),
    n INTEGER NOT NULL,
    duration_sum NUMERIC NOT NULL,
    duration_n INTEGER NOT NULL,
    records_loaded BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    CONSTRAINT uq_etl_stats_exec_hour UNIQUE NULLS NOT DISTINCT (bucket, etl_name, status, error_phase, error_category)
);
CREATE TABLE etl_stats_exec_day (
    fecha DATE NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    status VARCHAR(20) NOT NULL,
    error_phase VARCHAR(20),
    error_category VARCHAR(50),
    n INTEGER NOT NULL,
    duration_sum NUMERIC NOT NULL,
    duration_n INTEGER NOT NULL,
    records_loaded BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    CONSTRAINT uq_etl_stats_exec_day UNIQUE NULLS NOT DISTINCT (fecha, etl_name, status, error_phase, error_category)
);
CREATE TABLE etl_stats_tienda_hour (
    bucket TIMESTAMPTZ NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    tienda_id VARCHAR(50) NOT NULL,
    tienda_nombre VARCHAR(100),
    error_category VARCHAR(50),
    n INTEGER NOT NULL,
    fallos INTEGER NOT NULL,
    CONSTRAINT uq_etl_stats_tienda_hour UNIQUE NULLS NOT DISTINCT (bucket, etl_name, tienda_id, tienda_nombre, error_category)
);
CREATE TABLE etl_stats_tienda_day (
    fecha DATE NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    tienda_id VARCHAR(50) NOT NULL,
    tienda_nombre VARCHAR(100),
    error_category VARCHAR(50),
    n INTEGER NOT NULL,
    fallos INTEGER NOT NULL,
    CONSTRAINT uq_etl_stats_tienda_day UNIQUE NULLS NOT DISTINCT (fecha, etl_name, tienda_id, tienda_nombre, error_category)
);
-- Whole TZ_TIENDAS months (mes = the month's first day): a 90-day window reads at most a
-- month of days plus three months instead of 90 days.
CREATE TABLE etl_stats_tienda_month (
    mes DATE NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    tienda_id VARCHAR(50) NOT NULL,
    tienda_nombre VARCHAR(100),
    error_category VARCHAR(50),
    n INTEGER NOT NULL,
    fallos INTEGER NOT NULL,
    CONSTRAINT uq_etl_stats_tienda_month UNIQUE NULLS NOT DISTINCT (mes, etl_name, tienda_id, tienda_nombre, error_category)
);
-- Failed store runs per store and TZ_TIENDAS day: the heatmap, one narrow row per cell.
CREATE TABLE etl_stats_fallos_day (
    fecha DATE NOT NULL,
    etl_name VARCHAR(50) NOT NULL,
    tienda_id VARCHAR(50) NOT NULL,
    fallos INTEGER NOT NULL,
    CONSTRAINT etl_stats_fallos_day_pkey PRIMARY KEY (fecha, etl_name, tienda_id)
);

-- Counts are INTEGER (a bucket never holds 2^31 runs) so that sum() stays in int8 arithmetic.

-- One execution row's share (sign ±1) of counts and rollups. Deltas of OLD and NEW are summed
-- first and written in key order in one statement, so concurrent writers lock rollup rows in
-- the same order (no deadlock) and an update that changes nothing counted writes nothing.
CREATE FUNCTION etl_executions_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz TEXT := (SELECT c.tz FROM etl_stats_config c);
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN 1 ELSE 0 END;
    o_fin INT := CASE WHEN OLD.status IN ('success', 'partial', 'failed') THEN o ELSE 0 END;
    n_fin INT := CASE WHEN NEW.status IN ('success', 'partial', 'failed') THEN n ELSE 0 END;
BEGIN
    INSERT INTO etl_execution_counts AS c (dim, val, n)
    SELECT v.dim, v.val, sum(v.d) FROM (VALUES
        ('all', '', o), ('etl_name', OLD.etl_name, o), ('status', OLD.status, o),
        ('triggered_by', OLD.triggered_by, o), ('error_phase', OLD.error_phase, o),
        ('error_category', OLD.error_category, o),
        ('hour', to_char(OLD.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'), o),
        ('all', '', n), ('etl_name', NEW.etl_name, n), ('status', NEW.status, n),
        ('triggered_by', NEW.triggered_by, n), ('error_phase', NEW.error_phase, n),
        ('error_category', NEW.error_category, n),
        ('hour', to_char(NEW.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'), n)
    ) AS v(dim, val, d)
    WHERE v.val IS NOT NULL AND v.d <> 0
    GROUP BY v.dim, v.val HAVING sum(v.d) <> 0 ORDER BY v.dim, v.val
    ON CONFLICT (dim, val) DO UPDATE SET n = c.n + excluded.n;

    IF o_fin <> 0 OR n_fin <> 0 THEN
        INSERT INTO etl_stats_exec_hour AS h
        SELECT date_trunc('hour', v.started_at, 'UTC'), v.etl_name, v.status, v.error_phase, v.error_category,
            sum(v.s), sum(v.s * coalesce(v.dur, 0)), sum(v.s * (v.dur IS NOT NULL)::int),
            sum(v.s * v.loaded), sum(v.s * v.dups)
        FROM (VALUES
            (OLD.started_at, OLD.etl_name, OLD.status, OLD.error_phase, OLD.error_category, o_fin,
             OLD.duration_seconds, OLD.records_loaded, OLD.duplicates_skipped),
            (NEW.started_at, NEW.etl_name, NEW.status, NEW.error_phase, NEW.error_category, n_fin,
             NEW.duration_seconds, NEW.records_loaded, NEW.duplicates_skipped)
        ) AS v(started_at, etl_name, status, error_phase, error_category, s, dur, loaded, dups)
        WHERE v.s <> 0
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(v.s) <> 0 OR sum(v.s * coalesce(v.dur, 0)) <> 0 OR sum(v.s * v.loaded) <> 0
            OR sum(v.s * v.dups) <> 0 OR sum(v.s * (v.dur IS NOT NULL)::int) <> 0
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (bucket, etl_name, status, error_phase, error_category) DO UPDATE SET
            n = h.n + excluded.n, duration_sum = h.duration_sum + excluded.duration_sum,
            duration_n = h.duration_n + excluded.duration_n,
            records_loaded = h.records_loaded + excluded.records_loaded,
            duplicates = h.duplicates + excluded.duplicates;

        INSERT INTO etl_stats_exec_day AS h
        SELECT (v.started_at AT TIME ZONE tz)::date, v.etl_name, v.status, v.error_phase, v.error_category,
            sum(v.s), sum(v.s * coalesce(v.dur, 0)), sum(v.s * (v.dur IS NOT NULL)::int),
            sum(v.s * v.loaded), sum(v.s * v.dups)
        FROM (VALUES
            (OLD.started_at, OLD.etl_name, OLD.status, OLD.error_phase, OLD.error_category, o_fin,
             OLD.duration_seconds, OLD.records_loaded, OLD.duplicates_skipped),
            (NEW.started_at, NEW.etl_name, NEW.status, NEW.error_phase, NEW.error_category, n_fin,
             NEW.duration_seconds, NEW.records_loaded, NEW.duplicates_skipped)
        ) AS v(started_at, etl_name, status, error_phase, error_category, s, dur, loaded, dups)
        WHERE v.s <> 0
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(v.s) <> 0 OR sum(v.s * coalesce(v.dur, 0)) <> 0 OR sum(v.s * v.loaded) <> 0
            OR sum(v.s * v.dups) <> 0 OR sum(v.s * (v.dur IS NOT NULL)::int) <> 0
        ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (fecha, etl_name, status, error_phase, error_category) DO UPDATE SET
            n = h.n + excluded.n, duration_sum = h.duration_sum + excluded.duration_sum,
            duration_n = h.duration_n + excluded.duration_n,
            records_loaded = h.records_loaded + excluded.records_loaded,
            duplicates = h.duplicates + excluded.duplicates;
    END IF;

    -- Hand the execution's state down to its store rows; their own trigger moves their share.
    IF TG_OP = 'UPDATE' AND (o_fin <> 0) IS DISTINCT FROM (n_fin <> 0)
        OR TG_OP = 'UPDATE' AND OLD.started_at IS DISTINCT FROM NEW.started_at
        OR TG_OP = 'UPDATE' AND OLD.etl_name IS DISTINCT FROM NEW.etl_name THEN
        UPDATE etl_execution_details SET
            execution_started_at = NEW.started_at,
            execution_etl_name = NEW.etl_name,
            execution_finished = n_fin <> 0
        WHERE execution_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_rollup
    AFTER INSERT OR DELETE ON etl_executions
    FOR EACH ROW EXECUTE FUNCTION etl_executions_rollup();
-- Heartbeats and in-flight counters do not touch anything counted: skip them.
CREATE TRIGGER etl_executions_rollup_update
    AFTER UPDATE ON etl_executions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.started_at IS DISTINCT FROM NEW.started_at
        OR OLD.etl_name IS DISTINCT FROM NEW.etl_name
        OR OLD.triggered_by IS DISTINCT FROM NEW.triggered_by
        OR OLD.error_phase IS DISTINCT FROM NEW.error_phase
        OR OLD.error_category IS DISTINCT FROM NEW.error_category
        OR (NEW.status IN ('success', 'partial', 'failed') AND (
            OLD.duration_seconds IS DISTINCT FROM NEW.duration_seconds
            OR OLD.records_loaded IS DISTINCT FROM NEW.records_loaded
            OR OLD.duplicates_skipped IS DISTINCT FROM NEW.duplicates_skipped)))
    EXECUTE FUNCTION etl_executions_rollup();

CREATE FUNCTION etl_execution_details_inherit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.started_at, e.etl_name, e.status IN ('success', 'partial', 'failed')
    INTO NEW.execution_started_at, NEW.execution_etl_name, NEW.execution_finished
    FROM etl_executions e WHERE e.id = NEW.execution_id;
    NEW.execution_finished := coalesce(NEW.execution_finished, FALSE);
    RETURN NEW;
END $$;

CREATE TRIGGER etl_execution_details_inherit
    BEFORE INSERT OR UPDATE OF execution_id ON etl_execution_details
    FOR EACH ROW EXECUTE FUNCTION etl_execution_details_inherit();

CREATE FUNCTION etl_execution_details_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tz TEXT := (SELECT c.tz FROM etl_stats_config c);
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN 1 ELSE 0 END;
    o_fin INT := CASE WHEN OLD.execution_finished THEN o ELSE 0 END;
    n_fin INT := CASE WHEN NEW.execution_finished THEN n ELSE 0 END;
BEGIN
    INSERT INTO etl_execution_counts AS c (dim, val, n)
    SELECT 'tienda', v.val, sum(v.d) FROM (VALUES
        (OLD.tienda_id, CASE WHEN OLD.execution_started_at IS NOT NULL THEN o ELSE 0 END),
        (NEW.tienda_id, CASE WHEN NEW.execution_started_at IS NOT NULL THEN n ELSE 0 END)
    ) AS v(val, d)
    WHERE v.d <> 0
    GROUP BY v.val HAVING sum(v.d) <> 0 ORDER BY v.val
    ON CONFLICT (dim, val) DO UPDATE SET n = c.n + excluded.n;

    IF o_fin <> 0 OR n_fin <> 0 THEN
        WITH v AS (
            SELECT * FROM (VALUES
                (OLD.execution_started_at, OLD.execution_etl_name, OLD.tienda_id, OLD.tienda_nombre,
                 OLD.error_category, o_fin, (OLD.status = 'failed')::int),
                (NEW.execution_started_at, NEW.execution_etl_name, NEW.tienda_id, NEW.tienda_nombre,
                 NEW.error_category, n_fin, (NEW.status = 'failed')::int)
            ) AS v(started_at, etl_name, tienda_id, tienda_nombre, error_category, s, failed)
            WHERE v.s <> 0
        ),
        by_hour AS (
            INSERT INTO etl_stats_tienda_hour AS h
            SELECT date_trunc('hour', v.started_at, 'UTC'), v.etl_name, v.tienda_id, v.tienda_nombre, v.error_category,
                sum(v.s), sum(v.s * v.failed)
            FROM v GROUP BY 1, 2, 3, 4, 5 HAVING sum(v.s) <> 0 OR sum(v.s * v.failed) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (bucket, etl_name, tienda_id, tienda_nombre, error_category) DO UPDATE SET
                n = h.n + excluded.n, fallos = h.fallos + excluded.fallos
        ),
        by_day AS (
            INSERT INTO etl_stats_tienda_day AS h
            SELECT (v.started_at AT TIME ZONE tz)::date, v.etl_name, v.tienda_id, v.tienda_nombre, v.error_category,
                sum(v.s), sum(v.s * v.failed)
            FROM v GROUP BY 1, 2, 3, 4, 5 HAVING sum(v.s) <> 0 OR sum(v.s * v.failed) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (fecha, etl_name, tienda_id, tienda_nombre, error_category) DO UPDATE SET
                n = h.n + excluded.n, fallos = h.fallos + excluded.fallos
        ),
        by_month AS (
            INSERT INTO etl_stats_tienda_month AS h
            SELECT date_trunc('month', v.started_at AT TIME ZONE tz)::date, v.etl_name, v.tienda_id, v.tienda_nombre,
                v.error_category, sum(v.s), sum(v.s * v.failed)
            FROM v GROUP BY 1, 2, 3, 4, 5 HAVING sum(v.s) <> 0 OR sum(v.s * v.failed) <> 0 ORDER BY 1, 2, 3, 4, 5
            ON CONFLICT (mes, etl_name, tienda_id, tienda_nombre, error_category) DO UPDATE SET
                n = h.n + excluded.n, fallos = h.fallos + excluded.fallos
        )
        INSERT INTO etl_stats_fallos_day AS h
        SELECT (v.started_at AT TIME ZONE tz)::date, v.etl_name, v.tienda_id, sum(v.s * v.failed)
        FROM v GROUP BY 1, 2, 3 HAVING sum(v.s * v.failed) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (fecha, etl_name, tienda_id) DO UPDATE SET fallos = h.fallos + excluded.fallos;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_execution_details_rollup
    AFTER INSERT OR DELETE ON etl_execution_details
    FOR EACH ROW EXECUTE FUNCTION etl_execution_details_rollup();
-- While its execution runs, a store row only counts towards the per-store total (by tienda_id,
-- once started): the tracker's progress updates skip the trigger entirely. Once the execution
-- is finished, every column the statistics read matters.
CREATE TRIGGER etl_execution_details_rollup_update
    AFTER UPDATE ON etl_execution_details
    FOR EACH ROW
    WHEN (OLD.tienda_id IS DISTINCT FROM NEW.tienda_id
        OR (OLD.execution_started_at IS NULL) <> (NEW.execution_started_at IS NULL)
        OR OLD.execution_finished IS DISTINCT FROM NEW.execution_finished
        OR (NEW.execution_finished AND (
            OLD.status IS DISTINCT FROM NEW.status
            OR OLD.tienda_nombre IS DISTINCT FROM NEW.tienda_nombre
            OR OLD.error_category IS DISTINCT FROM NEW.error_category
            OR OLD.execution_started_at IS DISTINCT FROM NEW.execution_started_at
            OR OLD.execution_etl_name IS DISTINCT FROM NEW.execution_etl_name)))
    EXECUTE FUNCTION etl_execution_details_rollup();

-- TRUNCATE fires no row trigger: empty what was derived from the emptied table.
CREATE FUNCTION etl_stats_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'etl_executions' THEN
        TRUNCATE etl_execution_counts, etl_stats_exec_hour, etl_stats_exec_day, etl_stats_tienda_hour,
            etl_stats_tienda_day, etl_stats_tienda_month, etl_stats_fallos_day;
    ELSE
        DELETE FROM etl_execution_counts WHERE dim = 'tienda';
        TRUNCATE etl_stats_tienda_hour, etl_stats_tienda_day, etl_stats_tienda_month, etl_stats_fallos_day;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_truncated AFTER TRUNCATE ON etl_executions
    FOR EACH STATEMENT EXECUTE FUNCTION etl_stats_truncated();
CREATE TRIGGER etl_execution_details_truncated AFTER TRUNCATE ON etl_execution_details
    FOR EACH STATEMENT EXECUTE FUNCTION etl_stats_truncated();

-- Recomputes counts and rollups from the tables (after a bulk load made with triggers off).
-- SHARE locks keep writers out meanwhile; readers carry on.
CREATE FUNCTION etl_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
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

-- Daily buckets follow TZ_TIENDAS: the history API calls this at start when its zone differs.
CREATE FUNCTION etl_stats_set_timezone(new_tz TEXT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE new_tz; -- rejects an unknown zone before anything changes
    LOCK TABLE etl_executions, etl_execution_details IN SHARE MODE;
    UPDATE etl_stats_config SET tz = new_tz;
    PERFORM etl_stats_rebuild();
END $$;

SELECT etl_stats_rebuild();
