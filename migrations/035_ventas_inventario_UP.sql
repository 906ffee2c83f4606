-- Loaded data. A sale line is identified by store + invoice + line: re-extracting it is a
-- duplicate (counted in duplicates_skipped), never a second row. Inventory is current
-- stock per store and product, upserted on every run.
CREATE TABLE ventas (
    tienda_id VARCHAR(50) NOT NULL REFERENCES tiendas(id),
    numero_factura VARCHAR(30) NOT NULL,
    linea INTEGER NOT NULL,
    fecha TIMESTAMPTZ NOT NULL,
    codigo_producto VARCHAR(30) NOT NULL,
    descripcion VARCHAR(120),
    cantidad NUMERIC(12,3) NOT NULL,
    precio_unitario NUMERIC(12,2) NOT NULL,
    total NUMERIC(14,2) NOT NULL,
    execution_id INTEGER,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ventas_pkey PRIMARY KEY (tienda_id, numero_factura, linea)
);
CREATE INDEX idx_ventas_tienda_fecha ON ventas (tienda_id, fecha);

CREATE TABLE inventario (
    tienda_id VARCHAR(50) NOT NULL REFERENCES tiendas(id),
    codigo_producto VARCHAR(30) NOT NULL,
    descripcion VARCHAR(120),
    existencia NUMERIC(12,3) NOT NULL,
    costo NUMERIC(12,2),
    execution_id INTEGER,
    actualizado_en TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT inventario_pkey PRIMARY KEY (tienda_id, codigo_producto)
);
