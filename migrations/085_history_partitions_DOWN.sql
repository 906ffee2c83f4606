SELECT pgboss.delete_queue('etl-maintenance');

DROP VIEW etl_gaps;

-- Back to one plain table each, every row kept (ids unchanged: the month-encoded ones too, and the
-- plan's sequence continues above the largest), with the plan's definitions under their names.
DO $$
DECLARE
    t TEXT;
    r RECORD;
    fks TEXT[] := '{}';
    fk_tables TEXT[] := '{}';
    fk_names TEXT[] := '{}';
    i INT;
BEGIN
    FOR r IN
        SELECT c.conname, c.conrelid::regclass::text AS tbl, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conparentid = 0
          AND (c.confrelid IN ('etl_executions'::regclass, 'etl_execution_details'::regclass)
               OR c.conrelid IN ('etl_executions'::regclass, 'etl_execution_details'::regclass))
        ORDER BY c.conname
    LOOP
        fks := fks || r.def; fk_tables := fk_tables || r.tbl; fk_names := fk_names || r.conname::text;
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['etl_execution_details', 'etl_executions'] LOOP
        CREATE TEMP TABLE IF NOT EXISTS _defs (tbl TEXT, kind TEXT, name TEXT, def TEXT) ON COMMIT DROP;
        INSERT INTO _defs
        SELECT t, 'constraint', c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.conrelid = t::regclass AND c.contype IN ('p', 'u');
        INSERT INTO _defs
        SELECT t, 'index', i.relname, replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ')
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = t::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = t::regclass);
        INSERT INTO _defs
        SELECT t, 'trigger', tg.tgname, pg_get_triggerdef(tg.oid)
        FROM pg_trigger tg WHERE tg.tgrelid = t::regclass AND NOT tg.tgisinternal;

        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                       'INCLUDING COMMENTS INCLUDING GENERATED)', t || '_plain', t);
        -- Rows copied before any trigger exists on the copy: the rollups already count them.
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', t || '_plain', t);
        EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.id', t || '_id_seq', t || '_plain');
        EXECUTE format('DROP TABLE %I', t);
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t || '_plain', t);

        FOR r IN SELECT name, def FROM _defs WHERE tbl = t AND kind = 'constraint' LOOP
            IF t = 'etl_execution_details' AND r.name = 'etl_execution_details_pkey' THEN
                r.def := 'PRIMARY KEY (id)';
            END IF;
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, r.name, r.def);
        END LOOP;
        FOR r IN SELECT def FROM _defs WHERE tbl = t AND kind IN ('index', 'trigger') LOOP
            EXECUTE r.def;
        END LOOP;
    END LOOP;

    ALTER TABLE etl_executions ALTER COLUMN id SET DEFAULT nextval('etl_executions_id_seq'::regclass);
    PERFORM setval('etl_executions_id_seq', max(id)) FROM etl_executions HAVING max(id) IS NOT NULL;

    FOR i IN 1..coalesce(array_length(fks, 1), 0) LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk_tables[i], fk_names[i], fks[i]);
    END LOOP;
END $$;

-- etl_gaps as 065 wrote it (its body was etl_gaps_since's, dropped below).
CREATE VIEW etl_gaps AS
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
    ORDER BY e2.started_at
    LIMIT 1
) r ON TRUE
WHERE d.status = 'failed'
  AND e.status IN ('failed', 'partial', 'cancelled');


DROP FUNCTION etl_gaps_since(TIMESTAMPTZ);
DROP FUNCTION etl_history_retention(INTEGER, BOOLEAN, TIMESTAMPTZ);
DROP FUNCTION etl_execution_next_id(TIMESTAMPTZ);
DROP FUNCTION etl_history_partition_create(TIMESTAMPTZ);
DROP FUNCTION etl_execution_startable(INTEGER);
DROP FUNCTION etl_may_have_started_since(INTEGER, TIMESTAMPTZ);
DROP FUNCTION etl_first_id_started_since(TIMESTAMPTZ);
DROP FUNCTION etl_month_first_id(TIMESTAMPTZ);
