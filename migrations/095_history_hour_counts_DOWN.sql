-- Rollback of 095: the hour counts and their functions; 090's keepers, rebuild and forgetting as
-- they were.
DROP FUNCTION etl_history_counts_forget(REGCLASS, REGCLASS);
ALTER FUNCTION etl_history_day_counts_forget(REGCLASS, REGCLASS) RENAME TO etl_history_counts_forget;
DROP FUNCTION etl_stats_rebuild();
ALTER FUNCTION etl_stats_rebuild_day_counts() RENAME TO etl_stats_rebuild;
DROP FUNCTION etl_execution_hour_counts_of(REGCLASS, REGCLASS);

CREATE OR REPLACE FUNCTION etl_execution_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION etl_execution_details_day_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION etl_execution_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE etl_execution_day_counts, etl_history_backdated_months;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION etl_execution_details_day_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM etl_execution_day_counts WHERE dim = 'tienda';
    RETURN NULL;
END $$;

DROP TABLE etl_execution_hour_counts;
