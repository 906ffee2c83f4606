-- Every committed change to what the history list and the execution detail show is announced on the
-- channel `etl_history_changed` (empty payload), so that a history API process can keep those
-- responses in memory until the history changes (history-api/src/response-cache.ts).
-- Statement-level triggers: one notification per writing statement, not per row, and PostgreSQL
-- folds identical notifications of one transaction into one, delivered at commit. Rows written
-- through the partitioned parents (every writer here: tracker, reaper, POST /run, closures, seeds)
-- fire them; retention drops whole partitions, so it calls etl_history_notify_change() itself.
CREATE FUNCTION etl_history_notify_change() RETURNS VOID
LANGUAGE sql VOLATILE
AS $$ SELECT pg_notify('etl_history_changed', '') $$;

CREATE FUNCTION etl_history_changed_trigger() RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM etl_history_notify_change();
    RETURN NULL;
END $$;

CREATE TRIGGER etl_executions_history_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON etl_executions
FOR EACH STATEMENT EXECUTE FUNCTION etl_history_changed_trigger();

CREATE TRIGGER etl_execution_details_history_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON etl_execution_details
FOR EACH STATEMENT EXECUTE FUNCTION etl_history_changed_trigger();

-- A store's name and source system appear in the detail; a store that no longer exists is refused
-- by the list's store filter.
CREATE TRIGGER tiendas_history_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tiendas
FOR EACH STATEMENT EXECUTE FUNCTION etl_history_changed_trigger();
