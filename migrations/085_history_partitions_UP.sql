-- Ten years of history without bloat (issue 12): etl_executions and etl_execution_details become
-- monthly range partitions, and retention drops whole months (etl_history_retention) instead of
-- deleting rows. Rollups (036, 051) are fed by row triggers, which a dropped partition does not fire:
-- the long-term statistics outlive the raw rows.
--
-- The partition key is the execution id, whose high bits are the month it was allocated in
-- (UTC): id = ((year − 2000) × 12 + month − 1) × 2^21 + n, n < 2^21 (2,097,152 executions a month;
-- the last month an integer can hold is 2085-04). So every statement that names an execution — the
-- runner's tracker updates, the detail, a store's rows of one execution (etl_execution_details is
-- partitioned on execution_id with the same bounds), every foreign key — reads one partition with no
-- change to its SQL, and a month's rows of both tables go together. Ids keep their type (integer)
-- and their order (later executions have larger ids).
--
-- Rows that exist when this migration runs keep their ids (sequence numbers, far below any month's
-- range) in one partition per table, *_legacy, bounded by the next month boundary above its largest
-- id; retention drops it whole once its newest row is past the window. An empty legacy partition is
-- not kept.
--
-- The plan's columns, indexes, constraints and triggers keep their names and definitions, with one
-- exception PostgreSQL imposes: a partitioned table's primary key must contain the partition key, so
-- etl_execution_details_pkey is (id, execution_id) — detail ids stay unique (one sequence).

-- The first execution id of the month that contains p_at (UTC). Immutable, so a constant or a bound
-- parameter folds at plan time and the planner prunes the partitions before it opens them.
CREATE FUNCTION etl_month_first_id(p_at TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((extract(YEAR FROM p_at AT TIME ZONE 'UTC')::int - 2000) * 12
            + extract(MONTH FROM p_at AT TIME ZONE 'UTC')::int - 1) * 2097152
$$;

-- Whether execution p_id can have started at or after p_since. A row is created in the month of its
-- id and starts at the latest 14 days after that month ends (a queued execution older than that is
-- refused by the runner: etl_execution_startable), so a row started at or after p_since has an id
-- from the month of p_since − 14 days on — or is a legacy row (ids below 2010-01's range, which no
-- month partition uses). Windowed reads add `etl_may_have_started_since(e.id, $since)`: inlined and
-- folded with a bound parameter, the planner reads the months of the window (and the legacy
-- partition), not ten years of partitions.
CREATE FUNCTION etl_first_id_started_since(p_since TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT etl_month_first_id(to_timestamp(extract(EPOCH FROM p_since) - 14 * 86400)) $$;

-- Its body calls immutable functions only, so the planner inlines it (and folds the bound).
CREATE FUNCTION etl_may_have_started_since(p_id INTEGER, p_since TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT p_id < 251658240 OR p_id >= etl_first_id_started_since(p_since) $$;

-- Whether a queued execution may still start now (see etl_may_have_started_since).
CREATE FUNCTION etl_execution_startable(p_id INTEGER) RETURNS BOOLEAN
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT etl_may_have_started_since(p_id, now()) $$;

-- Creates the month's partition of both tables and its id sequence (the month of p_at, UTC).
-- Idempotent; returns whether it created anything. Callers creating ahead (the runner's daily
-- maintenance) set a lock_timeout: CREATE TABLE … PARTITION OF takes an exclusive lock on the parent.
CREATE FUNCTION etl_history_partition_create(p_at TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    lo BIGINT := etl_month_first_id(p_at);
    hi BIGINT := lo + 2097152;
    upper_bound TEXT := CASE WHEN hi > 2147483647 THEN 'MAXVALUE' ELSE hi::text END;
    suffix TEXT := to_char(p_at AT TIME ZONE 'UTC', 'YYYY_MM');
    created BOOLEAN := false;
BEGIN
    IF p_at < '2010-01-01T00:00:00Z' THEN
        -- Ids below 2010-01's range are sequence numbers of the rows from before this migration.
        RAISE EXCEPTION 'etl_executions has no months before 2010-01 (asked for %)', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM')
            USING ERRCODE = '22023';
    END IF;
    IF to_regclass('etl_executions_' || suffix) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF etl_executions FOR VALUES FROM (%s) TO (%s)',
                       'etl_executions_' || suffix, lo, upper_bound);
        EXECUTE format('CREATE SEQUENCE %I AS INTEGER MINVALUE %s MAXVALUE %s OWNED BY %I.id',
                       'etl_executions_' || suffix || '_id_seq', lo + 1, least(hi - 1, 2147483647),
                       'etl_executions_' || suffix);
        created := true;
    END IF;
    IF to_regclass('etl_execution_details_' || suffix) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF etl_execution_details FOR VALUES FROM (%s) TO (%s)',
                       'etl_execution_details_' || suffix, lo, upper_bound);
        created := true;
    END IF;
    RETURN created;
END $$;

-- The next execution id of the month of p_at (default: now, the same instant as created_at's default).
-- Rows written with a created_at in the past (seeds, imports) take etl_execution_next_id(created_at).
CREATE FUNCTION etl_execution_next_id(p_at TIMESTAMPTZ DEFAULT now()) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    seq REGCLASS := to_regclass('etl_executions_' || to_char(p_at AT TIME ZONE 'UTC', 'YYYY_MM') || '_id_seq');
BEGIN
    IF seq IS NULL THEN
        RAISE EXCEPTION 'etl_executions has no partition for % (UTC month)', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM')
            USING ERRCODE = '23514',
                  HINT = 'The runner creates months ahead (daily, and when it starts); start a runner or run '
                      || 'SELECT etl_history_partition_create(''' || p_at || ''')';
    END IF;
    RETURN nextval(seq);
END $$;

-- The conversion, generic over each table's definitions so that the plan's names and definitions
-- carry over as they are: indexes and unique constraints are recreated on the parent under their
-- names (attaching the legacy partition's matching indexes instead of building them), triggers are
-- recreated on the parent (PostgreSQL clones them onto every partition), foreign keys and the
-- etl_gaps view are recreated once both tables are partitioned.
DO $$
DECLARE
    t TEXT;
    key TEXT;
    r RECORD;
    fks TEXT[] := '{}';
    fk_tables TEXT[] := '{}';
    fk_names TEXT[] := '{}';
    legacy_upper BIGINT;
    n BIGINT;
    i INT;
BEGIN
    -- Every foreign key from or to either table.
    FOR r IN
        SELECT c.conname, c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.contype = 'f'
          AND (c.confrelid IN ('etl_executions'::regclass, 'etl_execution_details'::regclass)
               OR c.conrelid IN ('etl_executions'::regclass, 'etl_execution_details'::regclass))
        ORDER BY c.conname
    LOOP
        fks := fks || r.def; fk_tables := fk_tables || r.tbl; fk_names := fk_names || r.conname::text;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
    -- etl_gaps reads both tables; it comes back below as etl_gaps_since with no window.
    DROP VIEW etl_gaps;

    -- Ids from 2010-01's range on are month-encoded: rows a DOWN of this migration left in the plain
    -- table. They go back to their months below; the others are the legacy partition.
    SELECT coalesce(max(id), 0) + 1 INTO legacy_upper FROM etl_executions WHERE id < 251658240;
    -- Up to the next month boundary, so that no month's range overlaps the legacy rows.
    legacy_upper := ((legacy_upper + 2097151) / 2097152) * 2097152;

    FOREACH t IN ARRAY ARRAY['etl_executions', 'etl_execution_details'] LOOP
        key := CASE t WHEN 'etl_executions' THEN 'id' ELSE 'execution_id' END;
        CREATE TEMP TABLE IF NOT EXISTS _defs (tbl TEXT, kind TEXT, name TEXT, def TEXT) ON COMMIT DROP;
        -- Unique/primary constraints, plain indexes, triggers of the table as it is.
        INSERT INTO _defs
        SELECT t, 'constraint', c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.conrelid = t::regclass AND c.contype IN ('p', 'u');
        INSERT INTO _defs
        SELECT t, 'index', i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = t::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = t::regclass);
        INSERT INTO _defs
        SELECT t, 'trigger', tg.tgname, pg_get_triggerdef(tg.oid)
        FROM pg_trigger tg WHERE tg.tgrelid = t::regclass AND NOT tg.tgisinternal;

        FOR r IN SELECT name FROM _defs WHERE tbl = t AND kind = 'trigger' LOOP
            EXECUTE format('DROP TRIGGER %I ON %I', r.name, t);
        END LOOP;
        -- Free the names for the parent: the legacy partition's indexes get a suffix.
        FOR r IN SELECT name FROM _defs WHERE tbl = t AND kind = 'constraint' LOOP
            EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', t, r.name, left(r.name, 56) || '_legacy');
        END LOOP;
        FOR r IN SELECT name FROM _defs WHERE tbl = t AND kind = 'index' LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', r.name, left(r.name, 56) || '_legacy');
        END LOOP;
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_legacy');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                       'INCLUDING COMMENTS INCLUDING GENERATED) PARTITION BY RANGE (%I)', t, t || '_legacy', key);
        -- The id sequence must outlive the legacy partition (it is dropped by retention).
        EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.id', t || '_id_seq', t);

        EXECUTE format('CREATE TEMP TABLE %I ON COMMIT DROP AS SELECT * FROM %I WHERE %I >= 251658240',
                       '_monthly_' || t, t || '_legacy', key);
        EXECUTE format('DELETE FROM %I WHERE %I >= 251658240', t || '_legacy', key);
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I LIMIT 1) s', t || '_legacy') INTO n;
        IF n > 0 THEN
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
                           t, t || '_legacy', legacy_upper);
        ELSE
            EXECUTE format('DROP TABLE %I', t || '_legacy');
        END IF;

        FOR r IN SELECT name, def FROM _defs WHERE tbl = t AND kind = 'constraint' LOOP
            IF t = 'etl_execution_details' AND r.name = 'etl_execution_details_pkey' THEN
                r.def := 'PRIMARY KEY (id, execution_id)';
                IF n > 0 THEN
                    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', t || '_legacy', left(r.name, 56) || '_legacy');
                END IF;
            END IF;
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, r.name, r.def);
        END LOOP;
        FOR r IN SELECT def FROM _defs WHERE tbl = t AND kind = 'index' LOOP
            EXECUTE r.def;
        END LOOP;
    END LOOP;

    ALTER TABLE etl_executions ALTER COLUMN id SET DEFAULT etl_execution_next_id();
    -- This month and the next; the runner keeps creating ahead (runner/src/history/partitions.sql.ts).
    FOR i IN 0..1 LOOP
        PERFORM etl_history_partition_create(now() + make_interval(months => i));
    END LOOP;
    -- Month-encoded rows back into their months (before the triggers exist: the rollups count them
    -- already), and each month's sequence past them.
    FOR r IN
        SELECT DISTINCT make_timestamptz(2000 + (id / 2097152) / 12, (id / 2097152) % 12 + 1, 1, 0, 0, 0, 'UTC') AS m
        FROM _monthly_etl_executions
    LOOP
        PERFORM etl_history_partition_create(r.m);
    END LOOP;
    INSERT INTO etl_executions SELECT * FROM _monthly_etl_executions;
    INSERT INTO etl_execution_details SELECT * FROM _monthly_etl_execution_details;
    FOR r IN
        SELECT to_char(make_date(2000 + (id / 2097152) / 12, (id / 2097152) % 12 + 1, 1), 'YYYY_MM') AS suffix,
               max(id) AS last
        FROM _monthly_etl_executions GROUP BY 1
    LOOP
        PERFORM setval(format('%I', 'etl_executions_' || r.suffix || '_id_seq'), r.last);
    END LOOP;
    FOR r IN SELECT tbl, def FROM _defs WHERE kind = 'trigger' LOOP
        EXECUTE r.def;
    END LOOP;

    FOR i IN 1..coalesce(array_length(fks, 1), 0) LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk_tables[i], fk_names[i], fks[i]);
    END LOOP;
END $$;

-- The gaps of the executions started since p_since (all of them when null): the etl_gaps view (065) as
-- a function of its window, so that a window reads its months. The failed store rows, and the later
-- successful ones that may recover them, belong to executions started since p_since: bounded with
-- etl_may_have_started_since, which folds into partition bounds when p_since is a constant or a bound
-- parameter (this function is inlined: one SQL SELECT, STABLE, not STRICT). etl_gaps is this function
-- with no window: one gap definition.
CREATE FUNCTION etl_gaps_since(p_since TIMESTAMPTZ)
RETURNS TABLE (
    id INTEGER, etl_name VARCHAR, tienda_id VARCHAR, tienda_nombre VARCHAR, fecha_desde TIMESTAMPTZ,
    fecha_hasta TIMESTAMPTZ, error_category VARCHAR, detected_at TIMESTAMPTZ, recovered_at TIMESTAMPTZ,
    recovered_by_execution_id INTEGER
)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
SELECT
    e.id,
    e.etl_name,
    d.tienda_id,
    d.tienda_nombre,
    e.fecha_desde,
    e.fecha_hasta,
    d.error_category,
    coalesce(d.finished_at, e.finished_at) AS detected_at,
    r.recovered_at,
    r.recovered_by_execution_id
FROM etl_execution_details d
JOIN etl_executions e ON e.id = d.execution_id
LEFT JOIN LATERAL (
    SELECT e2.finished_at AS recovered_at, e2.id AS recovered_by_execution_id
    FROM etl_execution_details d2
    JOIN etl_executions e2 ON e2.id = d2.execution_id
    WHERE d2.tienda_id = d.tienda_id
      AND d2.status = 'success'
      AND e2.etl_name = e.etl_name
      AND e2.started_at > e.started_at
      AND (e.etl_name = 'inventario' OR e.fecha_desde IS NULL OR e.fecha_hasta IS NULL
           OR (e2.fecha_desde <= e.fecha_desde AND e2.fecha_hasta >= e.fecha_hasta))
      AND (p_since IS NULL OR (etl_may_have_started_since(e2.id, p_since)
                               AND etl_may_have_started_since(d2.execution_id, p_since)))
    ORDER BY e2.started_at
    LIMIT 1
) r ON true
WHERE d.status = 'failed'
  AND e.status IN ('failed', 'partial', 'cancelled')
  AND (p_since IS NULL OR (e.started_at >= p_since
                           AND etl_may_have_started_since(e.id, p_since)
                           AND etl_may_have_started_since(d.execution_id, p_since)))
$$;

CREATE VIEW etl_gaps AS SELECT * FROM etl_gaps_since(NULL);

-- Retention: drops the months of both tables older than the newest p_keep_months (the current month
-- counts as one), never a row at a time; the legacy partition goes once its newest row is older than
-- the kept window. References into a dropped month from kept rows are released first (rerun_of,
-- recovered_gap_id, the gap recovery bookkeeping), as their ON DELETE rules would. Rollups are fed by
-- row triggers, which DROP does not fire: the statistics keep the dropped months. Returns what it
-- dropped (or, with p_dry_run, what it would drop). Callers set a lock_timeout: dropping a partition
-- takes an exclusive lock on its parent.
CREATE FUNCTION etl_history_retention(p_keep_months INTEGER, p_dry_run BOOLEAN DEFAULT false, p_now TIMESTAMPTZ DEFAULT now())
RETURNS TABLE (partition_month TEXT, executions BIGINT, store_rows BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff TIMESTAMPTZ;
    r RECORD;
    lo BIGINT;
    hi BIGINT;
    whole BOOLEAN;
BEGIN
    IF p_keep_months IS NULL OR p_keep_months < 1 THEN
        RAISE EXCEPTION 'keep_months must be at least 1 (got %): retention keeps the current month at least', p_keep_months
            USING ERRCODE = '22023';
    END IF;
    cutoff := (date_trunc('month', p_now AT TIME ZONE 'UTC') - make_interval(months => p_keep_months - 1)) AT TIME ZONE 'UTC';
    FOR r IN
        SELECT c.relname AS part, substr(c.relname, length('etl_executions_') + 1) AS suffix,
               pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'etl_executions'::regclass
        ORDER BY c.relname
    LOOP
        IF r.suffix = 'legacy' THEN
            lo := -2147483648;
            hi := substring(r.bound FROM 'TO \((\d+)\)')::bigint;
            EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I WHERE greatest(created_at, started_at, finished_at) >= $1)', r.part)
                INTO STRICT whole USING cutoff;
            CONTINUE WHEN NOT whole;
        ELSE
            lo := ((split_part(r.suffix, '_', 1)::int - 2000) * 12 + split_part(r.suffix, '_', 2)::int - 1) * 2097152::bigint;
            CONTINUE WHEN lo >= etl_month_first_id(cutoff);
            hi := lo + 2097152;
        END IF;
        partition_month := r.suffix;
        EXECUTE format('SELECT count(*) FROM %I', r.part) INTO executions;
        EXECUTE format('SELECT count(*) FROM %I', 'etl_execution_details_' || r.suffix) INTO store_rows;
        IF NOT p_dry_run THEN
            UPDATE etl_executions SET rerun_of = NULL
                WHERE rerun_of >= lo AND rerun_of < hi AND NOT (id >= lo AND id < hi);
            UPDATE etl_executions SET recovered_gap_id = NULL
                WHERE recovered_gap_id >= lo AND recovered_gap_id < hi AND NOT (id >= lo AND id < hi);
            DELETE FROM etl_gap_recovery WHERE gap_id >= lo AND gap_id < hi;
            UPDATE etl_gap_recovery SET last_execution_id = NULL WHERE last_execution_id >= lo AND last_execution_id < hi;
            EXECUTE format('DROP TABLE %I', 'etl_execution_details_' || r.suffix);
            EXECUTE format('ALTER TABLE etl_executions DETACH PARTITION %I', r.part);
            EXECUTE format('DROP TABLE %I', r.part);
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;

-- The history's daily upkeep (runner/src/jobs/maintenance-job.ts): months created ahead and
-- RETENTION_MONTHS applied, one pass at a time across all runners; a pass that fails (a lock it could
-- not get within its lock_timeout) is retried later the same day.
SELECT pgboss.create_queue('etl-maintenance', '{
  "policy": "singleton", "retryLimit": 3, "retryDelay": 600, "expireInSeconds": 900, "deleteAfterSeconds": 604800
}'::jsonb);
