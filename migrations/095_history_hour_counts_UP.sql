-- Deep pages located to the hour (issue 12, item 4: a page-1000 request costs no more at 5M
-- executions than at 1M).
--
-- 090 locates a page by the UTC day its first row started on and reads that day's rows from the
-- offset within it; the offset skips every run of the day before the page (2,740 index entries a
-- day at 1M executions over a year, 13,700 at 5M). etl_execution_hour_counts keeps the same counts
-- per UTC hour of started_at — every dim of 090 (the store's 'tienda' too); executions not started
-- have no hour — so a page is located to its hour inside its day: the day from 090's counts (a few
-- hundred rows at most), then the hour from that day's 24 at most, and the offset within the hour
-- skips fewer than an hour's runs.
-- Kept by row triggers of their own, in the transaction that changes the row, like 090's.

CREATE TABLE etl_execution_hour_counts (
    dim VARCHAR(20) NOT NULL,
    val VARCHAR(50) NOT NULL,
    hora TIMESTAMPTZ NOT NULL,
    n BIGINT NOT NULL,
    CONSTRAINT etl_execution_hour_counts_pkey PRIMARY KEY (dim, val, hora)
);

-- One row's share (−1 for OLD, +1 for NEW), netted and written in key order (no deadlock between
-- concurrent writers, nothing written when nothing counted changed).
CREATE FUNCTION etl_execution_hour_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN 1 ELSE 0 END;
    oh TIMESTAMPTZ := CASE WHEN o <> 0 THEN date_trunc('hour', OLD.started_at, 'UTC') END;
    nh TIMESTAMPTZ := CASE WHEN n <> 0 THEN date_trunc('hour', NEW.started_at, 'UTC') END;
BEGIN
    IF oh IS NULL AND nh IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO etl_execution_hour_counts AS c (dim, val, hora, n)
    SELECT v.dim, v.val, v.hora, sum(v.d) FROM (VALUES
        ('all', '', oh, o), ('etl_name', OLD.etl_name, oh, o), ('status', OLD.status, oh, o),
        ('triggered_by', OLD.triggered_by, oh, o), ('error_phase', OLD.error_phase, oh, o),
        ('error_category', OLD.error_category, oh, o),
        ('all', '', nh, n), ('etl_name', NEW.etl_name, nh, n), ('status', NEW.status, nh, n),
        ('triggered_by', NEW.triggered_by, nh, n), ('error_phase', NEW.error_phase, nh, n),
        ('error_category', NEW.error_category, nh, n)
    ) AS v(dim, val, hora, d)
    WHERE v.val IS NOT NULL AND v.hora IS NOT NULL AND v.d <> 0
    GROUP BY v.dim, v.val, v.hora HAVING sum(v.d) <> 0 ORDER BY v.dim, v.val, v.hora
    ON CONFLICT (dim, val, hora) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_hour_counts
    AFTER INSERT OR DELETE ON etl_executions
    FOR EACH ROW EXECUTE FUNCTION etl_execution_hour_counts_keep();
-- Heartbeats, fan-in counters and phase updates touch nothing counted: skipped.
CREATE TRIGGER etl_executions_hour_counts_update
    AFTER UPDATE ON etl_executions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.started_at IS DISTINCT FROM NEW.started_at
        OR OLD.etl_name IS DISTINCT FROM NEW.etl_name
        OR OLD.triggered_by IS DISTINCT FROM NEW.triggered_by
        OR OLD.error_phase IS DISTINCT FROM NEW.error_phase
        OR OLD.error_category IS DISTINCT FROM NEW.error_category)
    EXECUTE FUNCTION etl_execution_hour_counts_keep();

CREATE FUNCTION etl_execution_hour_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM etl_execution_hour_counts WHERE dim <> 'tienda';
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_hour_counts_truncated AFTER TRUNCATE ON etl_executions
    FOR EACH STATEMENT EXECUTE FUNCTION etl_execution_hour_counts_truncated();

-- A store's started runs per UTC hour (dim 'tienda'), kept by the store rows' own trigger.
CREATE FUNCTION etl_execution_details_hour_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') AND OLD.execution_started_at IS NOT NULL THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') AND NEW.execution_started_at IS NOT NULL THEN 1 ELSE 0 END;
BEGIN
    IF o = 0 AND n = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO etl_execution_hour_counts AS c (dim, val, hora, n)
    SELECT 'tienda', v.val, v.hora, sum(v.d) FROM (VALUES
        (OLD.tienda_id, date_trunc('hour', OLD.execution_started_at, 'UTC'), o),
        (NEW.tienda_id, date_trunc('hour', NEW.execution_started_at, 'UTC'), n)
    ) AS v(val, hora, d)
    WHERE v.d <> 0
    GROUP BY v.val, v.hora HAVING sum(v.d) <> 0 ORDER BY v.val, v.hora
    ON CONFLICT (dim, val, hora) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_execution_details_hour_counts
    AFTER INSERT OR DELETE ON etl_execution_details
    FOR EACH ROW EXECUTE FUNCTION etl_execution_details_hour_counts_keep();
CREATE TRIGGER etl_execution_details_hour_counts_update
    AFTER UPDATE ON etl_execution_details
    FOR EACH ROW
    WHEN (OLD.tienda_id IS DISTINCT FROM NEW.tienda_id
        OR OLD.execution_started_at IS DISTINCT FROM NEW.execution_started_at)
    EXECUTE FUNCTION etl_execution_details_hour_counts_keep();

CREATE FUNCTION etl_execution_details_hour_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM etl_execution_hour_counts WHERE dim = 'tienda';
    RETURN NULL;
END $$;

CREATE TRIGGER etl_execution_details_hour_counts_truncated AFTER TRUNCATE ON etl_execution_details
    FOR EACH STATEMENT EXECUTE FUNCTION etl_execution_details_hour_counts_truncated();

-- The hour counts of a set of executions and of a set of store rows (tables or partitions, by name).
CREATE FUNCTION etl_execution_hour_counts_of(p_executions REGCLASS, p_details REGCLASS)
RETURNS TABLE (dim VARCHAR, val VARCHAR, hora TIMESTAMPTZ, n BIGINT)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT v.dim::varchar, v.val::varchar, date_trunc('hour', e.started_at, 'UTC'), count(*)
        FROM %1$s e CROSS JOIN LATERAL (VALUES ('all', ''), ('etl_name', e.etl_name), ('status', e.status),
            ('triggered_by', e.triggered_by), ('error_phase', e.error_phase),
            ('error_category', e.error_category)) AS v(dim, val)
        WHERE v.val IS NOT NULL AND e.started_at IS NOT NULL
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT 'tienda'::varchar, tienda_id::varchar, date_trunc('hour', execution_started_at, 'UTC'), count(*)
        FROM %2$s WHERE execution_started_at IS NOT NULL GROUP BY 2, 3$q$, p_executions, p_details);
END $$;

INSERT INTO etl_execution_hour_counts SELECT * FROM etl_execution_hour_counts_of('etl_executions', 'etl_execution_details');

-- 090's rebuild (renamed etl_stats_rebuild_day_counts), then the hour counts.
ALTER FUNCTION etl_stats_rebuild() RENAME TO etl_stats_rebuild_day_counts;
CREATE FUNCTION etl_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM etl_stats_rebuild_day_counts();
    TRUNCATE etl_execution_hour_counts;
    INSERT INTO etl_execution_hour_counts SELECT * FROM etl_execution_hour_counts_of('etl_executions', 'etl_execution_details');
END $$;

-- 090's forgetting of a month about to be dropped (renamed etl_history_day_counts_forget), then
-- its hour counts: retention calls it by this name.
ALTER FUNCTION etl_history_counts_forget(REGCLASS, REGCLASS) RENAME TO etl_history_day_counts_forget;
CREATE FUNCTION etl_history_counts_forget(p_executions REGCLASS, p_details REGCLASS) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM etl_history_day_counts_forget(p_executions, p_details);
    INSERT INTO etl_execution_hour_counts AS c (dim, val, hora, n)
    SELECT x.dim, x.val, x.hora, -x.n FROM etl_execution_hour_counts_of(p_executions, p_details) x ORDER BY 1, 2, 3
    ON CONFLICT (dim, val, hora) DO UPDATE SET n = c.n + excluded.n;
    DELETE FROM etl_execution_hour_counts WHERE n = 0;
END $$;
