DROP INDEX IF EXISTS idx_etl_details_tienda_etl_list;
