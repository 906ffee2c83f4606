DROP TRIGGER tiendas_history_changed ON tiendas;
DROP TRIGGER etl_execution_details_history_changed ON etl_execution_details;
DROP TRIGGER etl_executions_history_changed ON etl_executions;
DROP FUNCTION etl_history_changed_trigger();
DROP FUNCTION etl_history_notify_change();
