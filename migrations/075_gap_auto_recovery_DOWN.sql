SELECT pgboss.delete_queue('etl-recovery');
DROP FUNCTION IF EXISTS etl_evaluate_gap_alerts(INTEGER);
DELETE FROM etl_alerts WHERE tipo = 'gap_sin_recuperar';
ALTER TABLE etl_alerts DROP CONSTRAINT IF EXISTS etl_alerts_tienda_check;
ALTER TABLE etl_alerts DROP CONSTRAINT IF EXISTS etl_alerts_tipo_check;
-- Back to 041's rules, widened only by the types later migrations (070–074) may have added.
ALTER TABLE etl_alerts ADD CONSTRAINT etl_alerts_tipo_check CHECK (tipo IN (
    'success_rate_low', 'tienda_consecutive_failures', 'incidente_red', 'tienda_sin_datos', 'tienda_intermitente'));
ALTER TABLE etl_alerts ADD CONSTRAINT etl_alerts_check CHECK (
    (tipo <> 'success_rate_low' OR tienda_id IS NULL)
    AND (tipo <> 'tienda_consecutive_failures' OR tienda_id IS NOT NULL));
DROP TABLE IF EXISTS etl_recovery_settings;
DROP TABLE IF EXISTS etl_gap_recovery;
