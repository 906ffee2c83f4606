-- Back to migration 041: the two alerts of plan §8.3 only.
DROP FUNCTION IF EXISTS etl_evaluate_alerts(NUMERIC, INTEGER, INTEGER, NUMERIC, NUMERIC, INTEGER, INTEGER, INTEGER, INTEGER);
DROP INDEX IF EXISTS idx_etl_executions_window_start;
DELETE FROM etl_alerts WHERE tipo NOT IN ('success_rate_low', 'tienda_consecutive_failures');
ALTER TABLE etl_alerts DROP CONSTRAINT etl_alerts_tipo_check;
ALTER TABLE etl_alerts DROP CONSTRAINT etl_alerts_check;
ALTER TABLE etl_alerts
    DROP COLUMN detalle,
    ADD CONSTRAINT etl_alerts_tipo_check CHECK (tipo IN ('success_rate_low', 'tienda_consecutive_failures')),
    ADD CONSTRAINT etl_alerts_check CHECK ((tipo = 'tienda_consecutive_failures') = (tienda_id IS NOT NULL));

CREATE FUNCTION etl_evaluate_alerts(
    min_success_rate NUMERIC DEFAULT 80,
    max_consecutive_failures INTEGER DEFAULT 5
) RETURNS TABLE (id INTEGER, tipo VARCHAR, etl_name VARCHAR, tienda_id VARCHAR, mensaje TEXT,
                 valor NUMERIC, umbral NUMERIC, detectada_at TIMESTAMPTZ, resuelta_at TIMESTAMPTZ, cambio TEXT)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('etl_evaluate_alerts'));
    RETURN QUERY
    WITH rate AS (
        SELECT x.etl_name,
               round(100.0 * count(*) FILTER (WHERE x.status = 'success') / count(*), 2) AS valor
        FROM etl_executions x
        WHERE x.started_at >= now() - interval '24 hours'
          AND x.status IN ('success', 'partial', 'failed')
        GROUP BY x.etl_name
    ),
    streak AS (
        -- Consecutive failures of each store and ETL, counted back from its latest finished row.
        -- Only the latest 100 rows are read (through idx_etl_details_tienda_list of 036), so
        -- the cost does not grow with the history.
        SELECT t.id AS tienda_id, n.etl_name, s.fallos
        FROM tiendas t
        CROSS JOIN (VALUES ('ventas'), ('inventario')) AS n(etl_name)
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE recent.all_failed) AS fallos
            FROM (
                SELECT bool_and(latest.status = 'failed')
                           OVER (ORDER BY latest.execution_started_at DESC, latest.execution_id DESC) AS all_failed
                FROM (
                    SELECT d.status, d.execution_started_at, d.execution_id
                    FROM etl_execution_details d
                    WHERE d.tienda_id = t.id
                      AND d.execution_etl_name = n.etl_name
                      AND d.execution_started_at IS NOT NULL
                      AND d.status IN ('success', 'failed')
                    ORDER BY d.execution_started_at DESC, d.execution_id DESC
                    LIMIT 100
                ) latest
            ) recent
        ) s
        WHERE t.active
    ),
    firing AS (
        SELECT 'success_rate_low'::varchar AS tipo, r.etl_name, NULL::varchar AS tienda_id, r.valor,
               min_success_rate AS umbral,
               format('Tasa de éxito de %s en las últimas 24 h: %s %% (umbral %s %%)', r.etl_name, r.valor,
                      min_success_rate) AS mensaje
        FROM rate r WHERE r.valor < min_success_rate
        UNION ALL
        SELECT 'tienda_consecutive_failures', s.etl_name, s.tienda_id, s.fallos, max_consecutive_failures,
               format('La tienda %s falló %s veces seguidas en %s', s.tienda_id, s.fallos, s.etl_name)
        FROM streak s WHERE s.fallos > max_consecutive_failures
    ),
    refreshed AS (
        UPDATE etl_alerts a
        SET valor = f.valor, mensaje = f.mensaje, ultima_vez_at = now()
        FROM firing f
        WHERE a.resuelta_at IS NULL AND a.tipo = f.tipo AND a.etl_name = f.etl_name
          AND coalesce(a.tienda_id, '') = coalesce(f.tienda_id, '')
        RETURNING a.id
    ),
    opened AS (
        INSERT INTO etl_alerts AS a (tipo, etl_name, tienda_id, mensaje, valor, umbral)
        SELECT f.tipo, f.etl_name, f.tienda_id, f.mensaje, f.valor, f.umbral FROM firing f
        WHERE NOT EXISTS (
            SELECT 1 FROM etl_alerts o
            WHERE o.resuelta_at IS NULL AND o.tipo = f.tipo AND o.etl_name = f.etl_name
              AND coalesce(o.tienda_id, '') = coalesce(f.tienda_id, ''))
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at
    ),
    resolved AS (
        UPDATE etl_alerts a SET resuelta_at = now()
        WHERE a.resuelta_at IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM firing f
            WHERE a.tipo = f.tipo AND a.etl_name = f.etl_name AND coalesce(a.tienda_id, '') = coalesce(f.tienda_id, ''))
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at
    )
    SELECT o.*, 'abierta'::text FROM opened o
    UNION ALL
    SELECT r.*, 'resuelta'::text FROM resolved r;
END
$$;
