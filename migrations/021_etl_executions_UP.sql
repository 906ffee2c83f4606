-- Base execution log, as the plan's migration 033 finds it (plan appendix B: 021 is the
-- schema it extends). Timestamps are timestamptz and always written in UTC.
CREATE TABLE etl_executions (
    id SERIAL PRIMARY KEY,
    etl_name VARCHAR(50) NOT NULL,
    etl_type VARCHAR(20) NOT NULL DEFAULT 'scheduled',
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    duration_seconds DECIMAL(10,2),
    fecha_desde TIMESTAMPTZ,
    fecha_hasta TIMESTAMPTZ,
    status VARCHAR(20) NOT NULL DEFAULT 'running',
    records_extracted INTEGER NOT NULL DEFAULT 0,
    records_loaded INTEGER NOT NULL DEFAULT 0,
    duplicates_skipped INTEGER NOT NULL DEFAULT 0,
    gaps_recovered INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    error_detail TEXT,
    triggered_by VARCHAR(50),
    tiendas_count INTEGER NOT NULL DEFAULT 0,
    tiendas_exitosas INTEGER NOT NULL DEFAULT 0,
    tiendas_fallidas INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT chk_etl_name CHECK (etl_name IN ('ventas', 'inventario')),
    CONSTRAINT chk_etl_type CHECK (etl_type IN ('scheduled', 'manual', 'recovery')),
    CONSTRAINT chk_status CHECK (status IN ('running', 'success', 'partial', 'failed')),
    CONSTRAINT chk_triggered_by CHECK (
        triggered_by IS NULL OR triggered_by IN ('eventbridge', 'fluxion_admin', 'cli', 'recovery')
    )
);

