-- Deep pages of the history list without reading what comes before them (issue 12, item 4), and
-- X-Total-Count that stays true after retention.
--
-- etl_execution_day_counts: executions per UTC day of started_at, for every execution ('all') and
-- per value of each counted list filter (the dims of 036's etl_execution_counts, the store too). Executions that
-- have not started (started_at NULL: they head the newest-first list) count under 'infinity', the
-- day that sorts after every other. A page at offset N of the newest-first list sums these counts
-- newest day first to find the day its first row started on and how many rows come before that
-- day, then reads that day's rows from the offset within it — a few partitions and a few hundred
-- index entries, where an offset read every entry before it, merged across every month it spans.
-- Kept by its own row trigger, in the transaction that changes the row, like 036's counts.
--
-- Retention (085) drops whole months, which fires no row trigger: it now first takes the dropped
-- months' rows out of the counts (036's etl_execution_counts and these), so the list's
-- X-Total-Count is that of the rows kept. The statistics rollups keep the dropped months on purpose.

CREATE TABLE etl_execution_day_counts (
    dim VARCHAR(20) NOT NULL,
    val VARCHAR(50) NOT NULL,
    dia DATE NOT NULL,
    n BIGINT NOT NULL,
    CONSTRAINT etl_execution_day_counts_pkey PRIMARY KEY (dim, val, dia)
);

-- 085's etl_month_first_id, saturated: an instant after the last month an id can hold (2085-04),
-- or before 2000, gives the largest or smallest integer instead of an overflow error — a list
-- asked for fecha_hasta=2099-01-01 bounds its months by it.
CREATE OR REPLACE FUNCTION etl_month_first_id(p_at TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT least(greatest(((extract(YEAR FROM p_at AT TIME ZONE 'UTC')::bigint - 2000) * 12
            + extract(MONTH FROM p_at AT TIME ZONE 'UTC')::bigint - 1) * 2097152, -2147483648), 2147483647)::int
$$;

-- The months an execution started before an instant can be in. The runner starts an execution after
-- it was created (its id's month), so those are the months up to the instant's — save for rows
-- written with an earlier started_at than their id's month (the demo's replayed history, tests):
-- etl_history_backdated_months keeps, per month, the earliest such start, kept by a trigger that
-- only fires for them. etl_first_id_not_started_before(t): every execution started before t has a
-- smaller id; a read of the rows started before t adds `e.id < that` (a constant to the planner,
-- which plans no later month).
CREATE TABLE etl_history_backdated_months (
    month_first_id INTEGER PRIMARY KEY,
    min_started_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION etl_month_first_id_of(p_id INTEGER) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (p_id / 2097152) * 2097152 $$;

CREATE FUNCTION etl_id_month_start(p_id INTEGER) RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT make_timestamptz(2000 + p_id / 2097152 / 12, p_id / 2097152 % 12 + 1, 1, 0, 0, 0, 'UTC') $$;

CREATE FUNCTION etl_history_backdated_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO etl_history_backdated_months AS b (month_first_id, min_started_at)
    VALUES (etl_month_first_id_of(NEW.id), NEW.started_at)
    ON CONFLICT (month_first_id) DO UPDATE SET min_started_at = excluded.min_started_at
        WHERE excluded.min_started_at < b.min_started_at;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_backdated
    AFTER INSERT OR UPDATE OF started_at, id ON etl_executions
    FOR EACH ROW WHEN (NEW.started_at < etl_id_month_start(NEW.id))
    EXECUTE FUNCTION etl_history_backdated_keep();

CREATE FUNCTION etl_history_backdated_rebuild() RETURNS void LANGUAGE sql AS $$
    TRUNCATE etl_history_backdated_months;
    INSERT INTO etl_history_backdated_months
    SELECT etl_month_first_id_of(id), min(started_at) FROM etl_executions
    WHERE started_at < etl_id_month_start(id) GROUP BY 1;
$$;
SELECT etl_history_backdated_rebuild();

CREATE FUNCTION etl_first_id_not_started_before(p_before TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT least(greatest(etl_month_first_id(p_before)::bigint + 2097152,
        (SELECT max(b.month_first_id)::bigint + 2097152 FROM etl_history_backdated_months b
         WHERE b.min_started_at < p_before)), 2147483647)::int
$$;

-- The day an execution counts under: its UTC start day; 'infinity' (first newest-first) before it starts.
CREATE FUNCTION etl_execution_day_key(p_started_at TIMESTAMPTZ) RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce((p_started_at AT TIME ZONE 'UTC')::date, 'infinity'::date) $$;

-- One row's share (−1 for OLD, +1 for NEW), netted and written in key order (no deadlock between
-- concurrent writers, nothing written when nothing counted changed).
CREATE FUNCTION etl_execution_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN 1 ELSE 0 END;
    od DATE := CASE WHEN o <> 0 THEN etl_execution_day_key(OLD.started_at) END;
    nd DATE := CASE WHEN n <> 0 THEN etl_execution_day_key(NEW.started_at) END;
BEGIN
    INSERT INTO etl_execution_day_counts AS c (dim, val, dia, n)
    SELECT v.dim, v.val, v.dia, sum(v.d) FROM (VALUES
        ('all', '', od, o), ('etl_name', OLD.etl_name, od, o), ('status', OLD.status, od, o),
        ('triggered_by', OLD.triggered_by, od, o), ('error_phase', OLD.error_phase, od, o),
        ('error_category', OLD.error_category, od, o),
        ('all', '', nd, n), ('etl_name', NEW.etl_name, nd, n), ('status', NEW.status, nd, n),
        ('triggered_by', NEW.triggered_by, nd, n), ('error_phase', NEW.error_phase, nd, n),
        ('error_category', NEW.error_category, nd, n)
    ) AS v(dim, val, dia, d)
    WHERE v.val IS NOT NULL AND v.d <> 0
    GROUP BY v.dim, v.val, v.dia HAVING sum(v.d) <> 0 ORDER BY v.dim, v.val, v.dia
    ON CONFLICT (dim, val, dia) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_day_counts
    AFTER INSERT OR DELETE ON etl_executions
    FOR EACH ROW EXECUTE FUNCTION etl_execution_day_counts_keep();
-- Heartbeats, fan-in counters and phase updates touch nothing counted: skipped.
CREATE TRIGGER etl_executions_day_counts_update
    AFTER UPDATE ON etl_executions
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.started_at IS DISTINCT FROM NEW.started_at
        OR OLD.etl_name IS DISTINCT FROM NEW.etl_name
        OR OLD.triggered_by IS DISTINCT FROM NEW.triggered_by
        OR OLD.error_phase IS DISTINCT FROM NEW.error_phase
        OR OLD.error_category IS DISTINCT FROM NEW.error_category)
    EXECUTE FUNCTION etl_execution_day_counts_keep();

CREATE FUNCTION etl_execution_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE etl_execution_day_counts, etl_history_backdated_months;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_day_counts_truncated AFTER TRUNCATE ON etl_executions
    FOR EACH STATEMENT EXECUTE FUNCTION etl_execution_day_counts_truncated();

-- A store's started runs per UTC day (dim 'tienda', the store rows of the store filter's list index:
-- those whose execution has started), kept by the store rows' own trigger.
CREATE FUNCTION etl_execution_details_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o INT := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') AND OLD.execution_started_at IS NOT NULL THEN -1 ELSE 0 END;
    n INT := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') AND NEW.execution_started_at IS NOT NULL THEN 1 ELSE 0 END;
BEGIN
    INSERT INTO etl_execution_day_counts AS c (dim, val, dia, n)
    SELECT 'tienda', v.val, v.dia, sum(v.d) FROM (VALUES
        (OLD.tienda_id, (OLD.execution_started_at AT TIME ZONE 'UTC')::date, o),
        (NEW.tienda_id, (NEW.execution_started_at AT TIME ZONE 'UTC')::date, n)
    ) AS v(val, dia, d)
    WHERE v.d <> 0
    GROUP BY v.val, v.dia HAVING sum(v.d) <> 0 ORDER BY v.val, v.dia
    ON CONFLICT (dim, val, dia) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER etl_execution_details_day_counts
    AFTER INSERT OR DELETE ON etl_execution_details
    FOR EACH ROW EXECUTE FUNCTION etl_execution_details_day_counts_keep();
CREATE TRIGGER etl_execution_details_day_counts_update
    AFTER UPDATE ON etl_execution_details
    FOR EACH ROW
    WHEN (OLD.tienda_id IS DISTINCT FROM NEW.tienda_id
        OR OLD.execution_started_at IS DISTINCT FROM NEW.execution_started_at)
    EXECUTE FUNCTION etl_execution_details_day_counts_keep();

CREATE FUNCTION etl_execution_details_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM etl_execution_day_counts WHERE dim = 'tienda';
    RETURN NULL;
END $$;

CREATE TRIGGER etl_execution_details_day_counts_truncated AFTER TRUNCATE ON etl_execution_details
    FOR EACH STATEMENT EXECUTE FUNCTION etl_execution_details_day_counts_truncated();

-- The counts of a set of executions (a table or partition, by name), per (dim, val, dia).
CREATE FUNCTION etl_execution_day_counts_of(p_table REGCLASS)
RETURNS TABLE (dim VARCHAR, val VARCHAR, dia DATE, n BIGINT)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT v.dim::varchar, v.val::varchar, etl_execution_day_key(e.started_at), count(*)
        FROM %s e CROSS JOIN LATERAL (VALUES ('all', ''), ('etl_name', e.etl_name), ('status', e.status),
            ('triggered_by', e.triggered_by), ('error_phase', e.error_phase),
            ('error_category', e.error_category)) AS v(dim, val)
        WHERE v.val IS NOT NULL
        GROUP BY 1, 2, 3$q$, p_table);
END $$;

-- The same of a set of store rows (dim 'tienda').
CREATE FUNCTION etl_execution_details_day_counts_of(p_table REGCLASS)
RETURNS TABLE (dim VARCHAR, val VARCHAR, dia DATE, n BIGINT)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT 'tienda'::varchar, tienda_id::varchar, (execution_started_at AT TIME ZONE 'UTC')::date, count(*)
        FROM %s WHERE execution_started_at IS NOT NULL GROUP BY 2, 3$q$, p_table);
END $$;

INSERT INTO etl_execution_day_counts SELECT * FROM etl_execution_day_counts_of('etl_executions')
UNION ALL SELECT * FROM etl_execution_details_day_counts_of('etl_execution_details');

-- 036/051's rebuild (after a bulk load made with triggers off), then what this migration keeps
-- (a rename keeps 051's body in one place).
ALTER FUNCTION etl_stats_rebuild() RENAME TO etl_stats_rebuild_rollups;
CREATE FUNCTION etl_stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM etl_stats_rebuild_rollups();
    TRUNCATE etl_execution_day_counts;
    INSERT INTO etl_execution_day_counts SELECT * FROM etl_execution_day_counts_of('etl_executions')
    UNION ALL SELECT * FROM etl_execution_details_day_counts_of('etl_execution_details');
    PERFORM etl_history_backdated_rebuild();
END $$;

-- What a month about to be dropped contributes to the list's counts, taken out of them: 036's
-- etl_execution_counts (every dim, the store rows' 'tienda' too) and the day counts.
CREATE FUNCTION etl_history_counts_forget(p_executions REGCLASS, p_details REGCLASS) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO etl_execution_counts AS c (dim, val, n)
        SELECT dim, val, -sum(n) FROM (
            SELECT dim, val, n FROM etl_execution_day_counts_of(%1$L)
            UNION ALL SELECT 'hour', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'), count(*)
                FROM %1$s WHERE started_at IS NOT NULL GROUP BY 2
            UNION ALL SELECT 'tienda', tienda_id, count(*) FROM %2$s
                WHERE execution_started_at IS NOT NULL GROUP BY tienda_id) x
        GROUP BY dim, val ORDER BY dim, val
        ON CONFLICT (dim, val) DO UPDATE SET n = c.n + excluded.n$q$, p_executions, p_details);
    INSERT INTO etl_execution_day_counts AS c (dim, val, dia, n)
    SELECT x.dim, x.val, x.dia, -x.n FROM (SELECT * FROM etl_execution_day_counts_of(p_executions)
        UNION ALL SELECT * FROM etl_execution_details_day_counts_of(p_details)) x ORDER BY 1, 2, 3
    ON CONFLICT (dim, val, dia) DO UPDATE SET n = c.n + excluded.n;
    DELETE FROM etl_execution_counts WHERE n = 0;
    DELETE FROM etl_execution_day_counts WHERE n = 0;
END $$;

-- 085's retention (renamed etl_history_retention_drop), forgetting the counts of the months it is
-- about to drop first: the months come from its own dry run, in the same transaction; should the drop
-- then take other months (a legacy row touched in between), nothing is done and the error says so.
ALTER FUNCTION etl_history_retention(INTEGER, BOOLEAN, TIMESTAMPTZ) RENAME TO etl_history_retention_drop;
CREATE FUNCTION etl_history_retention(p_keep_months INTEGER, p_dry_run BOOLEAN DEFAULT false, p_now TIMESTAMPTZ DEFAULT now())
RETURNS TABLE (partition_month TEXT, executions BIGINT, store_rows BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    planned TEXT[];
    done TEXT[] := '{}';
    m TEXT;
    r RECORD;
BEGIN
    IF p_dry_run THEN
        RETURN QUERY SELECT * FROM etl_history_retention_drop(p_keep_months, true, p_now);
        RETURN;
    END IF;
    SELECT coalesce(array_agg(x.partition_month), '{}') INTO planned
    FROM etl_history_retention_drop(p_keep_months, true, p_now) x;
    FOREACH m IN ARRAY planned LOOP
        PERFORM etl_history_counts_forget(('etl_executions_' || m)::regclass, ('etl_execution_details_' || m)::regclass);
    END LOOP;
    FOR r IN SELECT * FROM etl_history_retention_drop(p_keep_months, false, p_now) LOOP
        done := done || r.partition_month;
        partition_month := r.partition_month;
        executions := r.executions;
        store_rows := r.store_rows;
        RETURN NEXT;
    END LOOP;
    IF done IS DISTINCT FROM planned THEN
        RAISE EXCEPTION 'retention: the months to drop changed while it ran (% then %); nothing was dropped, run it again',
            planned, done USING ERRCODE = '40001';
    END IF;
END $$;
