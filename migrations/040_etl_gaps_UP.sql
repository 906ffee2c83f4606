-- Gaps (DESIGN §5): a store of a failed or partial execution whose detail row failed and whose
-- data for that window has not been loaded since — no later execution of the same ETL has a
-- successful row for that store covering the whole window. Inventario is a snapshot, so any
-- later success of the store closes its gap. The gap's id is the failed execution's id (the
-- plan's recovered_gap_id references etl_executions(id)). One definition, read by the runner's
-- recovery mode and by the history API alike.
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
  AND e.status IN ('failed', 'partial');
