DROP TABLE IF EXISTS inventario_staging;
DROP TABLE IF EXISTS ventas_staging;
