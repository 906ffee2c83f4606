DROP VIEW IF EXISTS etl_tienda_feeds;
