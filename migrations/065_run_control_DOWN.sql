-- The gaps view as migration 040 defines it (before `cancelled` existed).
CREATE OR REPLACE VIEW etl_gaps AS
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
  AND e.status IN ('failed', 'partial');

-- Back to the five statuses: a cancelled run reads as failed (what the reaper made of an abandoned one).
DROP INDEX IF EXISTS idx_etl_executions_rerun_of;
ALTER TABLE etl_executions
    DROP CONSTRAINT IF EXISTS chk_rerun_scope,
    DROP COLUMN IF EXISTS cancel_requested_by,
    DROP COLUMN IF EXISTS cancel_requested_at,
    DROP COLUMN IF EXISTS rerun_scope,
    DROP COLUMN IF EXISTS rerun_of;
UPDATE etl_executions SET status = 'failed' WHERE status = 'cancelled';
ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('queued', 'running', 'success', 'partial', 'failed'));
