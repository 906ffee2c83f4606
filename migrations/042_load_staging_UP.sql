-- Staging for the runner's load (runner/src/etl/load.sql.ts). A store's lines are appended here a
-- chunk at a time while its source is still being read, so the runner never holds a whole window
-- in memory; at the end they are merged into ventas / inventario in one short transaction and
-- deleted. UNLOGGED: a scratch copy needs no WAL (a crash empties it; the store is then re-run).
-- Keyed by execution + store + row number within the store's attempt (n keeps the source order,
-- and lets the merge walk the rows in bounded chunks).
CREATE UNLOGGED TABLE ventas_staging (
    tienda_id VARCHAR(50) NOT NULL,
    execution_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    numero_factura VARCHAR(30) NOT NULL,
    linea INTEGER NOT NULL,
    fecha TIMESTAMPTZ NOT NULL,
    codigo_producto VARCHAR(30) NOT NULL,
    descripcion VARCHAR(120),
    cantidad NUMERIC(12,3) NOT NULL,
    precio_unitario NUMERIC(12,2) NOT NULL,
    total NUMERIC(14,2) NOT NULL,
    CONSTRAINT ventas_staging_pkey PRIMARY KEY (tienda_id, execution_id, n)
);

CREATE UNLOGGED TABLE inventario_staging (
    tienda_id VARCHAR(50) NOT NULL,
    execution_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    codigo_producto VARCHAR(30) NOT NULL,
    descripcion VARCHAR(120),
    existencia NUMERIC(12,3) NOT NULL,
    costo NUMERIC(12,2),
    CONSTRAINT inventario_staging_pkey PRIMARY KEY (tienda_id, execution_id, n)
);
