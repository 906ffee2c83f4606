SELECT pgboss.delete_queue(q.name) FROM (VALUES ('etl-ventas'), ('etl-inventario')) AS q(name);
