-- Gaps that heal themselves (issue 11 item 4). The runners' `etl-recovery` cron pass retries pending
-- gaps: a TCP probe of the store first, a recovery run only when it answers, oldest gap first, a limit
-- per pass, exponential backoff per gap, at most RECOVERY_MAX_ATTEMPTS attempts; then the gap is given
-- up on (exhausted_at) and its store gets a `gap_sin_recuperar` alert. The gap itself stays defined by
-- the etl_gaps view (040): this table only keeps what recovery did about it.

-- One row per gap (the failed execution's id + the store) that recovery has tried at least once.
CREATE TABLE etl_gap_recovery (
    gap_id INTEGER NOT NULL REFERENCES etl_executions(id) ON DELETE CASCADE,
    tienda_id VARCHAR(50) NOT NULL,
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    last_attempt_at TIMESTAMPTZ NOT NULL,
    -- null once given up on.
    next_attempt_at TIMESTAMPTZ,
    -- 'sin_respuesta': the store did not answer the probe; 'encolada': a recovery run was queued.
    last_outcome VARCHAR(20) NOT NULL CHECK (last_outcome IN ('sin_respuesta', 'encolada')),
    last_execution_id INTEGER REFERENCES etl_executions(id) ON DELETE SET NULL,
    exhausted_at TIMESTAMPTZ,
    PRIMARY KEY (gap_id, tienda_id)
);
-- The pass's "given up on, still pending" scan and the alert's per-store count.
CREATE INDEX idx_etl_gap_recovery_exhausted ON etl_gap_recovery (tienda_id) WHERE exhausted_at IS NOT NULL;

-- Operators pause and resume automatic recovery (PUT /api/etl/gaps/auto-recovery); every runner
-- reads this row before each pass. Exactly one row.
CREATE TABLE etl_recovery_settings (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT
);
INSERT INTO etl_recovery_settings DEFAULT VALUES;

-- The alert types of DESIGN §9 (the other issue-11 types are added by their own migrations; this
-- list names them all so the order the migrations land in does not matter).
ALTER TABLE etl_alerts DROP CONSTRAINT IF EXISTS etl_alerts_tipo_check;
ALTER TABLE etl_alerts ADD CONSTRAINT etl_alerts_tipo_check CHECK (tipo IN (
    'success_rate_low', 'tienda_consecutive_failures', 'incidente_red', 'tienda_sin_datos',
    'tienda_intermitente', 'gap_sin_recuperar'));
-- 041 tied tienda_id to tienda_consecutive_failures alone; gap_sin_recuperar names its store too.
ALTER TABLE etl_alerts DROP CONSTRAINT IF EXISTS etl_alerts_check;
ALTER TABLE etl_alerts ADD CONSTRAINT etl_alerts_tienda_check CHECK (
    (tipo <> 'success_rate_low' OR tienda_id IS NULL)
    AND (tipo NOT IN ('tienda_consecutive_failures', 'gap_sin_recuperar') OR tienda_id IS NOT NULL));

-- Opens one `gap_sin_recuperar` alert per store and ETL with gaps recovery gave up on and that are
-- still pending (valor: how many), refreshes it while they last, resolves it when none is left (a
-- later run or a manual recovery loaded them). Same change rows as etl_evaluate_alerts (041).
-- Each given-up gap is looked up on its own (a LATERAL with LIMIT is never flattened), never the etl_gaps
-- view's "recovered since?" test over every failure ever recorded: 14–60 ms with 118 given-up gaps on
-- 950k detail rows.
CREATE FUNCTION etl_evaluate_gap_alerts(max_attempts INTEGER)
RETURNS TABLE (id INTEGER, tipo VARCHAR, etl_name VARCHAR, tienda_id VARCHAR, mensaje TEXT,
               valor NUMERIC, umbral NUMERIC, detectada_at TIMESTAMPTZ, resuelta_at TIMESTAMPTZ, cambio TEXT)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('etl_evaluate_gap_alerts'));
    RETURN QUERY
    WITH firing AS (
        SELECT 'gap_sin_recuperar'::varchar AS tipo, e.etl_name, r.tienda_id, count(*)::numeric AS valor,
               max_attempts::numeric AS umbral,
               format('La tienda %s tiene %s gap(s) de %s sin recuperar tras %s intentos automáticos',
                      r.tienda_id, count(*), e.etl_name, max_attempts) AS mensaje
        FROM etl_gap_recovery r
        JOIN etl_executions e ON e.id = r.gap_id
        CROSS JOIN LATERAL (SELECT g.recovered_at FROM etl_gaps g
                            WHERE g.id = r.gap_id AND g.tienda_id = r.tienda_id LIMIT 1) g
        WHERE r.exhausted_at IS NOT NULL AND g.recovered_at IS NULL
        GROUP BY e.etl_name, r.tienda_id
    ),
    refreshed AS (
        UPDATE etl_alerts a
        SET valor = f.valor, mensaje = f.mensaje, ultima_vez_at = now()
        FROM firing f
        WHERE a.resuelta_at IS NULL AND a.tipo = f.tipo AND a.etl_name = f.etl_name AND a.tienda_id = f.tienda_id
        RETURNING a.id
    ),
    opened AS (
        INSERT INTO etl_alerts AS a (tipo, etl_name, tienda_id, mensaje, valor, umbral)
        SELECT f.tipo, f.etl_name, f.tienda_id, f.mensaje, f.valor, f.umbral FROM firing f
        WHERE NOT EXISTS (
            SELECT 1 FROM etl_alerts o
            WHERE o.resuelta_at IS NULL AND o.tipo = f.tipo AND o.etl_name = f.etl_name AND o.tienda_id = f.tienda_id)
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at
    ),
    resolved AS (
        UPDATE etl_alerts a SET resuelta_at = now()
        WHERE a.resuelta_at IS NULL AND a.tipo = 'gap_sin_recuperar'
          AND NOT EXISTS (
            SELECT 1 FROM firing f WHERE f.etl_name = a.etl_name AND f.tienda_id = a.tienda_id)
        RETURNING a.id, a.tipo, a.etl_name, a.tienda_id, a.mensaje, a.valor, a.umbral, a.detectada_at, a.resuelta_at
    )
    SELECT o.*, 'abierta'::text FROM opened o
    UNION ALL
    SELECT r.*, 'resuelta'::text FROM resolved r;
END
$$;

-- The queue of the recovery passes, owned by `npm run migrate` like the ETL queues (044). singleton:
-- one pass at a time across all runners; a pass that fails is simply the next minute's to redo.
SELECT pgboss.create_queue('etl-recovery', '{
  "policy": "singleton", "retryLimit": 0, "expireInSeconds": 600, "deleteAfterSeconds": 86400
}'::jsonb);
