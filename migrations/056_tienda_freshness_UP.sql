-- Per-store freshness (GET /api/etl/freshness): for each store and ETL, its newest run, its
-- newest successful run and the failures since, each an index range of this store × ETL in
-- list order — constant cost however long the history, and however long a store has failed.
CREATE INDEX idx_etl_details_tienda_etl_list ON etl_execution_details
    (tienda_id, execution_etl_name, execution_started_at DESC NULLS FIRST, execution_id DESC)
    INCLUDE (status)
    WHERE execution_started_at IS NOT NULL;
