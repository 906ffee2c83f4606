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
-- Kept by 090's row triggers, in the transaction that changes the row.

CREATE TABLE etl_execution_hour_counts (
    dim VARCHAR(20) NOT NULL,
    val VARCHAR(50) NOT NULL,
    hora TIMESTAMPTZ NOT NULL,
    n BIGINT NOT NULL,
    CONSTRAINT etl_execution_hour_counts_pkey PRIMARY KEY (dim, val, hora)
);

-- 090's keepers (the same triggers: same rows, same WHEN), now writing the hour beside the day from
-- one list of what a row counts under: one row's share (−1 for OLD, +1 for NEW), netted and written in
-- key order (no deadlock between concurrent writers: every one runs this one plan, so it takes the two
-- tables' rows in the same order; nothing is written when nothing counted changed).
CREATE OR REPLACE FUNCTION etl_execution_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN 1 ELSE 0 END;
BEGIN
    WITH v AS (
        SELECT x.dim, x.val, x.at, x.d FROM (VALUES
            ('all', '', OLD.started_at, o), ('etl_name', OLD.etl_name, OLD.started_at, o),
            ('status', OLD.status, OLD.started_at, o), ('triggered_by', OLD.triggered_by, OLD.started_at, o),
            ('error_phase', OLD.error_phase, OLD.started_at, o), ('error_category', OLD.error_category, OLD.started_at, o),
            ('all', '', NEW.started_at, n), ('etl_name', NEW.etl_name, NEW.started_at, n),
            ('status', NEW.status, NEW.started_at, n), ('triggered_by', NEW.triggered_by, NEW.started_at, n),
            ('error_phase', NEW.error_phase, NEW.started_at, n), ('error_category', NEW.error_category, NEW.started_at, n)
        ) AS x(dim, val, at, d)
        WHERE x.val IS NOT NULL AND x.d <> 0
    ), days AS (
        INSERT INTO etl_execution_day_counts AS c (dim, val, dia, n)
        SELECT v.dim, v.val, etl_execution_day_key(v.at), sum(v.d) FROM v
        GROUP BY 1, 2, 3 HAVING sum(v.d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (dim, val, dia) DO UPDATE SET n = c.n + excluded.n
    )
    INSERT INTO etl_execution_hour_counts AS c (dim, val, hora, n)
    SELECT v.dim, v.val, date_trunc('hour', v.at, 'UTC'), sum(v.d) FROM v WHERE v.at IS NOT NULL
    GROUP BY 1, 2, 3 HAVING sum(v.d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (dim, val, hora) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

-- A store's started runs per UTC day and hour (dim 'tienda'), kept by the store rows' triggers of 090.
CREATE OR REPLACE FUNCTION etl_execution_details_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') AND OLD.execution_started_at IS NOT NULL THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') AND NEW.execution_started_at IS NOT NULL THEN 1 ELSE 0 END;
BEGIN
    WITH v AS (
        SELECT x.val, x.at, x.d FROM (VALUES (OLD.tienda_id, OLD.execution_started_at, o),
            (NEW.tienda_id, NEW.execution_started_at, n)) AS x(val, at, d)
        WHERE x.d <> 0
    ), days AS (
        INSERT INTO etl_execution_day_counts AS c (dim, val, dia, n)
        SELECT 'tienda', v.val, (v.at AT TIME ZONE 'UTC')::date, sum(v.d) FROM v
        GROUP BY 2, 3 HAVING sum(v.d) <> 0 ORDER BY 2, 3
        ON CONFLICT (dim, val, dia) DO UPDATE SET n = c.n + excluded.n
    )
    INSERT INTO etl_execution_hour_counts AS c (dim, val, hora, n)
    SELECT 'tienda', v.val, date_trunc('hour', v.at, 'UTC'), sum(v.d) FROM v
    GROUP BY 2, 3 HAVING sum(v.d) <> 0 ORDER BY 2, 3
    ON CONFLICT (dim, val, hora) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

-- 090's TRUNCATE triggers empty the hour counts with the day counts.
CREATE OR REPLACE FUNCTION etl_execution_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE etl_execution_day_counts, etl_execution_hour_counts, etl_history_backdated_months;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION etl_execution_details_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM etl_execution_day_counts WHERE dim = 'tienda';
    DELETE FROM etl_execution_hour_counts WHERE dim = 'tienda';
    RETURN NULL;
END $$;

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
