-- Which ETL can read which store, decided once for every service: ventas from every store; inventario
-- only from KLK stores (the plan's ETL is etl_inventario_klk: Stellar has no inventory feed). The
-- history API validates and defaults manual runs with it, the runner picks a run's stores with it.
CREATE VIEW etl_tienda_feeds AS
SELECT e.etl_name, t.id AS tienda_id
FROM tiendas t
CROSS JOIN (VALUES ('ventas'), ('inventario')) AS e(etl_name)
WHERE e.etl_name = 'ventas' OR t.source_system = 'klk';
