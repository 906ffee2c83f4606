-- Closed rows go back to what they were before the calendar existed: failed when they had failed,
-- else skipped (their executions keep the counts and status closing gave them).
DROP FUNCTION IF EXISTS etl_reclasificar_cierres(VARCHAR, TSTZRANGE);
DROP FUNCTION IF EXISTS etl_cierre_de(VARCHAR, INTEGER);
DROP FUNCTION IF EXISTS etl_estado_por_tiendas(BOOLEAN, INTEGER, INTEGER, INTEGER, INTEGER);
DROP FUNCTION IF EXISTS etl_ventana(VARCHAR, TIMESTAMPTZ, TIMESTAMPTZ, TIMESTAMPTZ);
UPDATE etl_execution_details
SET status = CASE WHEN error_category IS NOT NULL THEN 'failed' ELSE 'skipped' END
WHERE status = 'closed';
ALTER TABLE etl_executions DROP COLUMN IF EXISTS tiendas_cerradas;
DROP INDEX IF EXISTS idx_etl_details_cierre;
ALTER TABLE etl_execution_details
    DROP COLUMN IF EXISTS cierre_id,
    DROP CONSTRAINT IF EXISTS chk_detail_status,
    ADD CONSTRAINT chk_detail_status CHECK (status IN ('running', 'success', 'failed', 'skipped'));
DROP TABLE IF EXISTS tienda_cierres;
