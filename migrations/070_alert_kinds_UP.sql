-- Alerts that think (issue 11, items 1–3) on top of plan §8.3's two:
--   incidente_red        several stores of one run failing with network categories: one alert
--                        naming them (detalle.tiendas), folding their per-store alerts while open;
--                        resolved when a run reaches most of them again.
--   tienda_sin_datos     a store's latest successful run loaded far fewer rows than the same
--                        weekday-hour windows of the previous weeks (the median), or none.
--   tienda_intermitente  a store failing k of its last m runs without ever failing more than
--                        the consecutive threshold in a row.
-- `detalle` carries what does not fit valor/umbral (store lists, expected and actual figures).
-- gap_sin_recuperar is accepted by the CHECK (DESIGN §9 lists it) but raised by the recovery pass.
ALTER TABLE etl_alerts DROP CONSTRAINT etl_alerts_tipo_check;
ALTER TABLE etl_alerts DROP CONSTRAINT etl_alerts_check;
ALTER TABLE etl_alerts
    ADD COLUMN detalle JSONB,
    ADD CONSTRAINT etl_alerts_tipo_check CHECK (tipo IN ('success_rate_low', 'tienda_consecutive_failures',
        'incidente_red', 'tienda_sin_datos', 'tienda_intermitente', 'gap_sin_recuperar')),
    ADD CONSTRAINT etl_alerts_check CHECK (CASE
        WHEN tipo IN ('success_rate_low', 'incidente_red') THEN tienda_id IS NULL
        WHEN tipo IN ('tienda_consecutive_failures', 'tienda_sin_datos', 'tienda_intermitente') THEN tienda_id IS NOT NULL
        ELSE TRUE END);

-- tienda_sin_datos finds the earlier windows of a weekday-hour slot by where they start: the
-- window (ventas) or the start of the run (inventario, a snapshot without a window).
CREATE INDEX idx_etl_executions_window_start ON etl_executions (etl_name, (coalesce(fecha_desde, started_at)));

DROP FUNCTION etl_evaluate_alerts(NUMERIC, INTEGER);

-- etl_evaluate_alerts, bounded on long histories and large chains, measured by
-- `npm run bench -- --only alerts`: no JIT (the estimates crossed jit_above_cost and compiling cost
-- ~300 ms a call); per-store failure figures computed inside each store's index range (no sort or
-- grouping across stores); the earlier weekday-hour windows looked up once per distinct window and
-- week, each one bounded index range (never a hash of the executions table); and a tienda_sin_datos
-- stays open through failing runs (only a run that loads rows clears it).
-- Cost: per active store and ETL a few index probes of its latest rows (idx_etl_details_tienda_etl_list,
-- at most 100 rows deep, usually 10), the latest finished execution of each ETL, and the executions
-- whose window starts in the same weekday-hour of the previous `sin_datos_semanas` weeks — never a
-- scan of the history, so the cost grows with the number of stores and not with the history's length.
CREATE FUNCTION etl_evaluate_alerts(
    min_success_rate NUMERIC DEFAULT 80,
    max_consecutive_failures INTEGER DEFAULT 5,
    incidente_min_tiendas INTEGER DEFAULT 3,
    incidente_min_pct NUMERIC DEFAULT 30,
    sin_datos_fraccion NUMERIC DEFAULT 0.2,
    sin_datos_semanas INTEGER DEFAULT 8,
    sin_datos_min_semanas INTEGER DEFAULT 4,
    intermitente_fallos INTEGER DEFAULT 4,
    intermitente_ventana INTEGER DEFAULT 10
) RETURNS TABLE (id INTEGER, tipo VARCHAR, etl_name VARCHAR, tienda_id VARCHAR, mensaje TEXT,
                 valor NUMERIC, umbral NUMERIC, detectada_at TIMESTAMPTZ, resuelta_at TIMESTAMPTZ,
                 detalle JSONB, cambio TEXT)
-- No JIT: on a long history the planner's estimates cross jit_above_cost and compiling the
-- expressions costs ~300 ms per call, far more than the statement (measured: 400 → 20 ms).
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    tz TEXT := coalesce((SELECT c.tz FROM etl_stats_config c LIMIT 1), 'America/Caracas');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('etl_evaluate_alerts'));
    RETURN QUERY
    WITH names(etl_name) AS (VALUES ('ventas'::varchar), ('inventario'::varchar)),
    rate AS (
        SELECT x.etl_name,
               round(100.0 * count(*) FILTER (WHERE x.status = 'success') / count(*), 2) AS valor
        FROM etl_executions x
        WHERE x.started_at >= now() - interval '24 hours'
          AND x.status IN ('success', 'partial', 'failed')
        GROUP BY x.etl_name
    ),
    -- Each active store × ETL: its latest finished rows (at most intermitente_ventana, newest
    -- first, one index range of idx_etl_details_tienda_etl_list) summed up in place: failures, the
    -- latest success, and the islands of equal status (the longest run of failures, how many runs
    -- of failures) — no sort or grouping across stores.
    per_store AS (
        SELECT t.id AS tienda_id, t.nombre, n.etl_name, a.*
        FROM tiendas t
        CROSS JOIN names n
        CROSS JOIN LATERAL (
            SELECT count(*) AS corridas,
                   count(*) FILTER (WHERE x.status = 'failed') AS fallos,
                   min(x.rn) FILTER (WHERE x.status = 'success') AS primer_exito_rn,
                   (array_agg(x.execution_id ORDER BY x.rn) FILTER (WHERE x.status = 'success'))[1] AS ultimo_exito_id,
                   array_agg(x.execution_id ORDER BY x.rn) FILTER (WHERE x.status = 'failed') AS fallidas_ids,
                   coalesce(max(x.largo) FILTER (WHERE x.status = 'failed'), 0) AS racha_max,
                   count(DISTINCT x.grp) FILTER (WHERE x.status = 'failed') AS islas
            FROM (
                SELECT y.*, count(*) OVER (PARTITION BY y.status, y.grp) AS largo
                FROM (
                    SELECT z.*, z.rn - row_number() OVER (PARTITION BY z.status ORDER BY z.rn) AS grp
                    FROM (
                        SELECT d.status, d.execution_id,
                               row_number() OVER (ORDER BY d.execution_started_at DESC, d.execution_id DESC) AS rn
                        FROM etl_execution_details d
                        WHERE d.tienda_id = t.id
                          AND d.execution_etl_name = n.etl_name
                          AND d.execution_started_at IS NOT NULL
                          AND d.status IN ('success', 'failed')
                        ORDER BY d.execution_started_at DESC, d.execution_id DESC
                        LIMIT greatest(intermitente_ventana, 1)
                    ) z
                ) y
            ) x
        ) a
        WHERE t.active AND a.corridas > 0
    ),
    -- Consecutive failures counted back from the latest row; past the window only for stores that
    -- failed all of it, and then at most 100 rows deep (as migration 041 did).
    streak AS (
        SELECT p.*,
               CASE WHEN p.primer_exito_rn IS NOT NULL THEN p.primer_exito_rn - 1
                    WHEN p.corridas < greatest(intermitente_ventana, 1) THEN p.corridas
                    ELSE (SELECT coalesce(min(l.rn) FILTER (WHERE l.status = 'success') - 1, count(*))
                          FROM (SELECT d.status,
                                       row_number() OVER (ORDER BY d.execution_started_at DESC, d.execution_id DESC) AS rn
                                FROM etl_execution_details d
                                WHERE d.tienda_id = p.tienda_id AND d.execution_etl_name = p.etl_name
                                  AND d.execution_started_at IS NOT NULL AND d.status IN ('success', 'failed')
                                ORDER BY d.execution_started_at DESC, d.execution_id DESC
                                LIMIT 100) l) END AS seguidos
        FROM per_store p
    ),
    -- ---- incidente_red: the latest finished execution of each ETL and its stores.
    latest AS (
        SELECT n.etl_name, x.id AS execution_id
        FROM names n
        CROSS JOIN LATERAL (
            SELECT e.id FROM etl_executions e
            WHERE e.etl_name = n.etl_name AND e.started_at IS NOT NULL AND e.status IN ('success', 'partial', 'failed')
            ORDER BY e.started_at DESC NULLS FIRST, e.id DESC
            LIMIT 1
        ) x
    ),
    run_stores AS (
        SELECT l.etl_name, l.execution_id, d.tienda_id, coalesce(t.nombre, d.tienda_nombre, d.tienda_id) AS nombre,
               d.status IN ('success', 'failed') AS intentada,
               -- Network: the link or the VPN, not the store's software. A Stellar db_connection is
               -- network only before the login (no TCP connection, not a refused login).
               (d.status = 'failed' AND (
                   d.error_category IN ('vpn_timeout', 'vpn_unreachable', 'network_error')
                   OR (d.error_category = 'db_connection'
                       AND coalesce(d.network_diagnostics->>'error_code', '') <> 'ELOGIN'
                       AND coalesce(d.network_diagnostics->>'tcp_connected', 'false') <> 'true'))) AS de_red
        FROM latest l
        JOIN etl_execution_details d ON d.execution_id = l.execution_id
        LEFT JOIN tiendas t ON t.id = d.tienda_id
    ),
    run_net AS (
        SELECT rs.etl_name, min(rs.execution_id) AS execution_id,
               count(*) FILTER (WHERE rs.intentada) AS intentadas,
               count(*) FILTER (WHERE rs.de_red) AS de_red,
               coalesce(jsonb_agg(jsonb_build_object('tienda_id', rs.tienda_id, 'tienda_nombre', rs.nombre)
                                  ORDER BY rs.tienda_id) FILTER (WHERE rs.de_red), '[]') AS tiendas
        FROM run_stores rs
        GROUP BY rs.etl_name
    ),
    open_inc AS (
        SELECT a.etl_name, a.valor, a.detalle
        FROM etl_alerts a
        WHERE a.tipo = 'incidente_red' AND a.resuelta_at IS NULL
    ),
    -- Of the open incident's stores, those the latest run reached (attempted, no network failure).
    inc_reached AS (
        SELECT o.etl_name, count(*) AS total,
               count(*) FILTER (WHERE rs.intentada AND NOT rs.de_red) AS alcanzadas
        FROM open_inc o
        CROSS JOIN LATERAL jsonb_array_elements(o.detalle->'tiendas') el
        LEFT JOIN run_stores rs ON rs.etl_name = o.etl_name AND rs.tienda_id = el->>'tienda_id'
        GROUP BY o.etl_name
    ),
    inc_state AS (
        SELECT n.etl_name, r.execution_id, r.intentadas, r.de_red, r.tiendas AS nuevas, o.detalle AS abierta, o.valor AS valor_abierta,
               coalesce(r.de_red >= incidente_min_tiendas
                        AND 100.0 * r.de_red / nullif(r.intentadas, 0) >= incidente_min_pct, false) AS nueva,
               o.etl_name IS NOT NULL AND coalesce(ir.alcanzadas, 0) * 2 <= coalesce(ir.total, 0) AS sigue
        FROM names n
        LEFT JOIN run_net r ON r.etl_name = n.etl_name
        LEFT JOIN open_inc o ON o.etl_name = n.etl_name
        LEFT JOIN inc_reached ir ON ir.etl_name = n.etl_name
    ),
    incident AS (
        SELECT s.etl_name, s.execution_id, s.intentadas,
               CASE WHEN s.nueva AND s.intentadas > 0 THEN round(100.0 * s.de_red / s.intentadas, 2)
                    ELSE coalesce(s.valor_abierta, 0) END AS valor,
               CASE WHEN s.abierta IS NULL THEN s.nuevas
                    WHEN NOT s.nueva THEN s.abierta->'tiendas'
                    ELSE (SELECT jsonb_agg(u.e ORDER BY u.e->>'tienda_id')
                          FROM (SELECT DISTINCT ON (e->>'tienda_id') e
                                FROM jsonb_array_elements((s.abierta->'tiendas') || s.nuevas) e) u) END AS tiendas
        FROM inc_state s
        WHERE s.nueva OR s.sigue
    ),
    incident_msg AS (
        SELECT i.*, jsonb_array_length(i.tiendas) AS afectadas,
               (SELECT count(*) FROM tiendas t WHERE t.active) AS activas,
               (SELECT string_agg(x.e->>'tienda_nombre', ', ' ORDER BY x.ord)
                FROM jsonb_array_elements(i.tiendas) WITH ORDINALITY x(e, ord) WHERE x.ord <= 10) AS nombres
        FROM incident i
    ),
    folded AS (
        SELECT i.etl_name, el->>'tienda_id' AS tienda_id
        FROM incident i CROSS JOIN LATERAL jsonb_array_elements(i.tiendas) el
    ),
    -- ---- tienda_sin_datos: each store's latest successful run against the same weekday-hour
    -- windows (same length) of the previous weeks.
    cur AS (
        SELECT s.tienda_id, s.nombre, s.etl_name, s.ultimo_exito_id AS execution_id,
               d.records_loaded + d.duplicates_skipped AS filas,
               coalesce(e.fecha_desde, e.started_at) AS w_start, e.fecha_desde, e.fecha_hasta,
               e.fecha_hasta - e.fecha_desde AS w_len
        FROM streak s
        -- Probes per store (LATERAL … LIMIT 1), whatever the planner guesses about the row counts.
        CROSS JOIN LATERAL (
            SELECT e.fecha_desde, e.fecha_hasta, e.started_at FROM etl_executions e
            WHERE e.id = s.ultimo_exito_id LIMIT 1) e
        CROSS JOIN LATERAL (
            SELECT d.records_loaded, d.duplicates_skipped FROM etl_execution_details d
            WHERE d.execution_id = s.ultimo_exito_id AND d.tienda_id = s.tienda_id LIMIT 1) d
    ),
    -- The distinct windows first (most stores share their latest run), then their earlier slots:
    -- the executions are looked up once per window and week, not once per store.
    wins AS MATERIALIZED (
        SELECT DISTINCT c.etl_name, c.w_start, c.w_len FROM cur c
    ),
    cand AS MATERIALIZED (
        SELECT w.etl_name, w.w_start, w.w_len, k.k, e.id AS execution_id
        FROM wins w
        -- A constant series (26 weeks at most, as the runner's configuration allows): the plan does
        -- not depend on the parameter's value.
        CROSS JOIN generate_series(1, 26) AS k(k)
        CROSS JOIN LATERAL (
            SELECT (date_trunc('hour', w.w_start AT TIME ZONE tz) - make_interval(days => 7 * k.k)) AT TIME ZONE tz AS s_from
        ) s
        -- One range of idx_etl_executions_window_start per slot (LIMIT keeps it a probe: joined
        -- flat, the planner may hash the whole table instead); 50 runs of one hour is plenty.
        CROSS JOIN LATERAL (
            SELECT e.id FROM etl_executions e
            WHERE e.etl_name = w.etl_name
              AND coalesce(e.fecha_desde, e.started_at) >= s.s_from
              AND coalesce(e.fecha_desde, e.started_at) < s.s_from + interval '1 hour'
              AND e.status IN ('success', 'partial')
              AND (e.fecha_hasta - e.fecha_desde) IS NOT DISTINCT FROM w.w_len
            LIMIT 50
        ) e
        WHERE k.k <= sin_datos_semanas
    ),
    base AS (
        SELECT c.tienda_id, c.etl_name, count(DISTINCT cd.k) AS semanas, count(*) AS muestras,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (d.records_loaded + d.duplicates_skipped)::float8) AS esperado
        FROM cur c
        JOIN cand cd ON cd.etl_name = c.etl_name AND cd.w_start = c.w_start AND cd.w_len IS NOT DISTINCT FROM c.w_len
        -- One probe of uq_detail_execution_tienda per store and earlier window.
        CROSS JOIN LATERAL (
            SELECT d.records_loaded, d.duplicates_skipped FROM etl_execution_details d
            WHERE d.execution_id = cd.execution_id AND d.tienda_id = c.tienda_id AND d.status = 'success'
            LIMIT 1
        ) d
        GROUP BY c.tienda_id, c.etl_name
    ),
    sin_datos AS (
        SELECT c.*, b.semanas, b.muestras, round(b.esperado::numeric, 2) AS esperado
        FROM cur c JOIN base b ON b.tienda_id = c.tienda_id AND b.etl_name = c.etl_name
        WHERE b.semanas >= sin_datos_min_semanas
          AND b.esperado > 0
          AND c.filas < sin_datos_fraccion * b.esperado
    ),
    firing AS (
        SELECT 'success_rate_low'::varchar AS tipo, r.etl_name, NULL::varchar AS tienda_id, r.valor,
               min_success_rate AS umbral,
               format('Tasa de éxito de %s en las últimas 24 h: %s %% (umbral %s %%)', r.etl_name, r.valor,
                      min_success_rate) AS mensaje,
               NULL::jsonb AS detalle
        FROM rate r WHERE r.valor < min_success_rate
        UNION ALL
        SELECT 'tienda_consecutive_failures', s.etl_name, s.tienda_id, s.seguidos::numeric, max_consecutive_failures::numeric,
               format('La tienda %s falló %s veces seguidas en %s', s.tienda_id, s.seguidos, s.etl_name), NULL::jsonb
        FROM streak s WHERE s.seguidos > max_consecutive_failures
        UNION ALL
        SELECT 'tienda_intermitente', s.etl_name, s.tienda_id, s.fallos::numeric, intermitente_fallos::numeric,
               format('La tienda %s falló %s de sus últimas %s ejecuciones de %s (nunca más de %s seguidas)',
                      s.nombre, s.fallos, s.corridas, s.etl_name, s.racha_max),
               jsonb_build_object('fallos', s.fallos, 'ejecuciones', s.corridas, 'racha_maxima', s.racha_max,
                                  'execution_ids', to_jsonb(s.fallidas_ids))
        FROM streak s
        -- Intermittent: failures in at least two separate bursts, none longer than the consecutive
        -- threshold (a store simply down is tienda_consecutive_failures' business).
        WHERE s.fallos >= intermitente_fallos AND s.islas >= 2 AND s.racha_max <= max_consecutive_failures
        UNION ALL
        SELECT 'incidente_red', m.etl_name, NULL, m.valor, incidente_min_pct,
               format('Incidente de red en %s: %s de %s tiendas sin conexión (%s %% de la cadena): %s%s',
                      m.etl_name, m.afectadas, m.intentadas,
                      round(100.0 * m.afectadas / nullif(m.activas, 0), 1), m.nombres,
                      CASE WHEN m.afectadas > 10 THEN format(' y %s más', m.afectadas - 10) ELSE '' END),
               jsonb_build_object('tiendas', m.tiendas, 'tiendas_afectadas', m.afectadas,
                                  'tiendas_intentadas', m.intentadas, 'tiendas_activas', m.activas,
                                  'porcentaje_cadena', round(100.0 * m.afectadas / nullif(m.activas, 0), 2),
                                  'execution_id', m.execution_id)
        FROM incident_msg m
        UNION ALL
        SELECT 'tienda_sin_datos', d.etl_name, d.tienda_id, d.filas::numeric,
               round(sin_datos_fraccion * d.esperado, 2),
               format('La tienda %s cargó %s filas en %s; lo normal para ese día y hora es %s (mediana de %s semanas)',
                      d.nombre, d.filas, d.etl_name, d.esperado, d.semanas),
               jsonb_build_object('esperado', d.esperado, 'actual', d.filas, 'fraccion', sin_datos_fraccion,
                                  'semanas', d.semanas, 'muestras', d.muestras, 'execution_id', d.execution_id,
                                  'ventana_desde', to_char(d.fecha_desde AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                  'ventana_hasta', to_char(d.fecha_hasta AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        FROM sin_datos d
    ),
    refreshed AS (
        UPDATE etl_alerts a
        SET valor = f.valor, mensaje = f.mensaje, detalle = f.detalle, ultima_vez_at = now()
        FROM firing f
        WHERE a.resuelta_at IS NULL AND a.tipo = f.tipo AND a.etl_name = f.etl_name
          AND coalesce(a.tienda_id, '') = coalesce(f.tienda_id, '')
        RETURNING a.id
    ),
    opened AS (
        INSERT INTO etl_alerts AS a (tipo, etl_name, tienda_id, mensaje, valor, umbral, detalle)
        SELECT f.tipo, f.etl_name, f.tienda_id, f.mensaje, f.valor, f.umbral, f.detalle FROM firing f
        WHERE NOT EXISTS (
            SELECT 1 FROM etl_alerts o
            WHERE o.resuelta_at IS NULL AND o.tipo = f.tipo AND o.etl_name = f.etl_name
              AND coalesce(o.tienda_id, '') = coalesce(f.tienda_id, ''))
          -- Folded into an open network incident: the store's own alerts would be N copies of it.
          AND NOT (f.tipo IN ('tienda_consecutive_failures', 'tienda_intermitente') AND EXISTS (
            SELECT 1 FROM folded fo WHERE fo.etl_name = f.etl_name AND fo.tienda_id = f.tienda_id))
        -- Ids in a stable order (the webhook posts them in id order).
        ORDER BY f.etl_name DESC, f.tipo, f.tienda_id
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at, a.detalle
    ),
    resolved AS (
        UPDATE etl_alerts a SET resuelta_at = now()
        WHERE a.resuelta_at IS NULL
          -- Raised elsewhere (the recovery pass): not this function's to resolve.
          AND a.tipo IN ('success_rate_low', 'tienda_consecutive_failures', 'incidente_red', 'tienda_sin_datos',
                         'tienda_intermitente')
          AND NOT EXISTS (
            SELECT 1 FROM firing f
            WHERE a.tipo = f.tipo AND a.etl_name = f.etl_name AND coalesce(a.tienda_id, '') = coalesce(f.tienda_id, ''))
          -- Missing rows are cleared by a run that loads them, not by runs that fail: a store with
          -- no success among its latest runs keeps its tienda_sin_datos open.
          AND NOT (a.tipo = 'tienda_sin_datos' AND EXISTS (
            SELECT 1 FROM per_store p
            WHERE p.tienda_id = a.tienda_id AND p.etl_name = a.etl_name AND p.ultimo_exito_id IS NULL))
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at, a.detalle
    )
    SELECT o.*, 'abierta'::text FROM opened o
    UNION ALL
    SELECT r.*, 'resuelta'::text FROM resolved r;
END
$$;
