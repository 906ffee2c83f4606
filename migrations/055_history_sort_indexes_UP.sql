-- History list orders beyond newest-first (GET /api/etl/history?sort=…): each one is a btree
-- scan in order, forward for ascending and backward for descending, never a sort of the
-- matching rows. Unfiltered, and with the two filters an operator sorts by most: the ETL
-- ("the slowest ventas runs") and the status ("failed runs that loaded the most"; several
-- statuses merge one scan per status). Ties break on id, as the API orders them.
CREATE INDEX idx_etl_executions_duration_list ON etl_executions (duration_seconds, id);
CREATE INDEX idx_etl_executions_records_list ON etl_executions (records_loaded, id);
CREATE INDEX idx_etl_executions_name_duration ON etl_executions (etl_name, duration_seconds, id);
CREATE INDEX idx_etl_executions_name_records ON etl_executions (etl_name, records_loaded, id);
CREATE INDEX idx_etl_executions_status_duration ON etl_executions (status, duration_seconds, id);
CREATE INDEX idx_etl_executions_status_records ON etl_executions (status, records_loaded, id);
