-- Re-run and cancel from the run itself (issue 13, Deliver 1).
-- - status `cancelled`: a queued run cancelled before any runner took it, or a running one stopped on
--   request before every store ran (the stores it never ran are `skipped`). Not a finished outcome
--   for the statistics (success + partial + failed), like queued and running.
-- - rerun_of: the execution a run repeats (POST /api/etl/executions/{id}/rerun), so the detail shows
--   the link both ways; rerun_scope says whether it repeats every store or only the failed ones.
-- - cancel_requested_at/by: a stop asked of a running run. Every runner reads it (with the part's
--   execution row and with its heartbeat) and stops the run at the next store/page boundary.
ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('queued', 'running', 'success', 'partial', 'failed', 'cancelled'));

ALTER TABLE etl_executions
    ADD COLUMN rerun_of INTEGER REFERENCES etl_executions (id) ON DELETE SET NULL,
    ADD COLUMN rerun_scope VARCHAR(10),
    ADD COLUMN cancel_requested_at TIMESTAMPTZ,
    ADD COLUMN cancel_requested_by TEXT,
    ADD CONSTRAINT chk_rerun_scope CHECK (rerun_scope IS NULL OR rerun_scope IN ('failed', 'all'));

-- "Re-runs of this execution" in its detail.
CREATE INDEX idx_etl_executions_rerun_of ON etl_executions (rerun_of) WHERE rerun_of IS NOT NULL;

-- A store that failed before its run was cancelled is a gap like any other failed store (migration 040's
-- view, with `cancelled` among the executions whose failed stores it lists).
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
  AND e.status IN ('failed', 'partial', 'cancelled');
