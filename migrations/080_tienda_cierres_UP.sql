-- The store calendar (issue 11): days a store is closed on purpose — a holiday, an inventory day,
-- works. A run window inside a closure of its store is not run against that store: its detail row
-- is `closed` ("cerrada"), neither a success nor a failure, never a gap (etl_gaps reads `failed`),
-- never alert material (the evaluations read `success`/`failed`). A closure entered after the fact
-- reclassifies what the history already holds for its days (etl_reclasificar_cierres).

CREATE TABLE tienda_cierres (
    id SERIAL PRIMARY KEY,
    tienda_id VARCHAR(50) NOT NULL REFERENCES tiendas(id) ON DELETE CASCADE,
    -- Store-local days, inclusive, as the operator entered them.
    fecha_desde DATE NOT NULL,
    fecha_hasta DATE NOT NULL,
    -- The same days as instants: [start of fecha_desde, start of the day after fecha_hasta) in the
    -- chain's zone (etl_stats_config.tz, kept equal to TZ_TIENDAS by the history API).
    periodo TSTZRANGE NOT NULL CHECK (NOT isempty(periodo) AND NOT lower_inf(periodo) AND NOT upper_inf(periodo)),
    motivo VARCHAR(20) NOT NULL CHECK (motivo IN ('feriado', 'inventario', 'obras', 'otro')),
    nota VARCHAR(500),
    creado_por TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT chk_cierre_dias CHECK (fecha_hasta >= fecha_desde AND fecha_hasta - fecha_desde <= 366)
);
CREATE INDEX idx_tienda_cierres_tienda ON tienda_cierres (tienda_id, fecha_desde DESC);

ALTER TABLE etl_execution_details
    DROP CONSTRAINT chk_detail_status,
    ADD CONSTRAINT chk_detail_status CHECK (status IN ('running', 'success', 'failed', 'skipped', 'closed')),
    -- The closure that makes the row `closed` (null otherwise).
    ADD COLUMN cierre_id INTEGER REFERENCES tienda_cierres(id) ON DELETE SET NULL;
CREATE INDEX idx_etl_details_cierre ON etl_execution_details (cierre_id) WHERE cierre_id IS NOT NULL;

ALTER TABLE etl_executions
    ADD COLUMN tiendas_cerradas INTEGER NOT NULL DEFAULT 0 CHECK (tiendas_cerradas >= 0);

-- The time a run covers for closure purposes: a ventas window as recorded; anything else (inventario
-- is a snapshot) the instant it started.
CREATE FUNCTION etl_ventana(etl_name VARCHAR, fecha_desde TIMESTAMPTZ, fecha_hasta TIMESTAMPTZ,
                            started_at TIMESTAMPTZ)
RETURNS TSTZRANGE LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN etl_name = 'ventas' AND fecha_desde IS NOT NULL AND fecha_hasta IS NOT NULL AND fecha_hasta > fecha_desde
            THEN tstzrange(fecha_desde, fecha_hasta)
        ELSE tstzrange(coalesce(started_at, now()), coalesce(started_at, now()), '[]')
    END
$$;

-- The closure of the store that covers the whole of the execution's window (the oldest, when several):
-- no row when none does. A set-returning SQL function of one SELECT, so a caller's `FROM
-- etl_cierre_de(…)` is inlined into its plan (the runner's per-store start statement is prepared
-- once; a scalar function would re-plan this query on every call, ~0.3 ms).
CREATE FUNCTION etl_cierre_de(p_tienda_id VARCHAR, p_execution_id INTEGER)
RETURNS SETOF INTEGER LANGUAGE sql STABLE AS $$
    SELECT c.id
    FROM etl_executions e
    JOIN tienda_cierres c ON c.tienda_id = p_tienda_id
    WHERE e.id = p_execution_id
      AND c.periodo @> etl_ventana(e.etl_name, e.fecha_desde, e.fecha_hasta, e.started_at)
    ORDER BY c.id
    LIMIT 1
$$;

-- The status of a finished run from its stores: the one rule closing (runner/src/executions/close.sql.ts)
-- and reclassification below share. Closed stores count as neither success nor failure; a run asked to
-- stop that left stores unrun is `cancelled`. Scalar SQL of one expression: inlined where it is called.
CREATE FUNCTION etl_estado_por_tiendas(cancel_requested BOOLEAN, total INTEGER, ok INTEGER, failed INTEGER,
                                       closed INTEGER)
RETURNS VARCHAR LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cancel_requested AND total > ok + failed + closed THEN 'cancelled'
        WHEN total > 0 AND ok + closed = total THEN 'success'
        WHEN ok > 0 THEN 'partial'
        ELSE 'failed'
    END::VARCHAR
$$;

-- Brings the finished history of one store in line with its closures over `p_periodo`: its failed
-- (and, outside stopped runs, skipped) rows whose window lies inside a closure become `closed` (their
-- error kept for the record); `closed` rows no closure covers any more go back to `failed` when they
-- had failed, else `skipped`. Each execution touched gets its store counts and status recomputed as
-- closing does (executions/close.sql.ts: closed stores count as neither), its error cleared when no
-- store failed any more, and an event for live views. Returns how many store rows changed.
CREATE FUNCTION etl_reclasificar_cierres(p_tienda_id VARCHAR, p_periodo TSTZRANGE)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    touched INTEGER[];
    changed INTEGER;
BEGIN
    WITH cand AS (
        SELECT d.id, d.status, d.cierre_id, c.cierre
        FROM etl_execution_details d
        JOIN etl_executions e ON e.id = d.execution_id
        LEFT JOIN LATERAL etl_cierre_de(d.tienda_id, d.execution_id) AS c(cierre) ON TRUE
        WHERE d.tienda_id = p_tienda_id
          AND e.status IN ('success', 'partial', 'failed', 'cancelled')
          AND (d.status IN ('failed', 'closed') OR (d.status = 'skipped' AND e.status <> 'cancelled'))
          AND etl_ventana(e.etl_name, e.fecha_desde, e.fecha_hasta, e.started_at) && p_periodo
    ),
    upd AS (
        UPDATE etl_execution_details d
        SET status = CASE WHEN c.cierre IS NOT NULL THEN 'closed'
                          WHEN d.error_category IS NOT NULL THEN 'failed' ELSE 'skipped' END,
            cierre_id = c.cierre
        FROM cand c
        WHERE d.id = c.id
          AND (c.cierre IS DISTINCT FROM c.cierre_id OR (c.cierre IS NOT NULL) <> (c.status = 'closed'))
        RETURNING d.execution_id
    )
    SELECT array_agg(DISTINCT execution_id), count(*) INTO touched, changed FROM upd;

    IF changed > 0 THEN
        UPDATE etl_executions e SET
            tiendas_exitosas = s.ok, tiendas_fallidas = s.failed, tiendas_cerradas = s.closed,
            status = CASE WHEN e.status = 'cancelled' THEN 'cancelled'
                          ELSE etl_estado_por_tiendas(FALSE, s.total, s.ok, s.failed, s.closed) END,
            error_phase = CASE WHEN s.failed > 0 THEN e.error_phase END,
            error_category = CASE WHEN s.failed > 0 THEN e.error_category END,
            error_source = CASE WHEN s.failed > 0 THEN e.error_source END,
            error_message = CASE WHEN s.failed > 0 THEN e.error_message END,
            error_detail = CASE WHEN s.failed > 0 THEN e.error_detail END,
            network_diagnostics = CASE WHEN s.failed > 0 THEN e.network_diagnostics END
        FROM (
            SELECT d.execution_id, count(*)::int AS total,
                   count(*) FILTER (WHERE d.status = 'success')::int AS ok,
                   count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
                   count(*) FILTER (WHERE d.status = 'closed')::int AS closed
            FROM etl_execution_details d
            WHERE d.execution_id = ANY(touched)
            GROUP BY d.execution_id
        ) s
        WHERE e.id = s.execution_id;

        PERFORM pg_notify('etl_events', jsonb_build_object('execution_id', t, 'kind', 'execution_finished')::text)
        FROM unnest(touched) AS t;
    END IF;
    RETURN changed;
END
$$;
