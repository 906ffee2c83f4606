-- Migration 033, exactly as the plan writes it (§1.1 and §1.2).

ALTER TABLE etl_executions
ADD COLUMN IF NOT EXISTS error_phase VARCHAR(20),
ADD COLUMN IF NOT EXISTS error_category VARCHAR(50),
ADD COLUMN IF NOT EXISTS error_source VARCHAR(100),
ADD COLUMN IF NOT EXISTS extract_duration_seconds DECIMAL(10,2),
ADD COLUMN IF NOT EXISTS transform_duration_seconds DECIMAL(10,2),
ADD COLUMN IF NOT EXISTS load_duration_seconds DECIMAL(10,2),
ADD COLUMN IF NOT EXISTS source_system VARCHAR(20),
ADD COLUMN IF NOT EXISTS api_requests_count INTEGER,
ADD COLUMN IF NOT EXISTS api_errors_count INTEGER DEFAULT 0,
ADD COLUMN IF NOT EXISTS records_upserted INTEGER DEFAULT 0,
ADD COLUMN IF NOT EXISTS records_failed INTEGER DEFAULT 0,
ADD COLUMN IF NOT EXISTS network_diagnostics JSONB,
ADD COLUMN IF NOT EXISTS is_recovery BOOLEAN DEFAULT FALSE,
ADD COLUMN IF NOT EXISTS recovered_gap_id INTEGER REFERENCES etl_executions(id);

ALTER TABLE etl_executions
ADD CONSTRAINT chk_error_phase CHECK (
    error_phase IS NULL OR error_phase IN ('extract', 'transform', 'load')
);

CREATE INDEX IF NOT EXISTS idx_etl_executions_error_phase ON etl_executions(error_phase) WHERE error_phase IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_etl_executions_source ON etl_executions(source_system);
CREATE INDEX IF NOT EXISTS idx_etl_executions_recovery ON etl_executions(is_recovery) WHERE is_recovery = TRUE;

CREATE TABLE IF NOT EXISTS etl_execution_details (
    id SERIAL PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES etl_executions(id) ON DELETE CASCADE,

    -- Identificación de tienda
    tienda_id VARCHAR(50) NOT NULL,
    tienda_nombre VARCHAR(100),
    source_system VARCHAR(20),              -- 'klk' o 'stellar'

    -- Resultado individual
    status VARCHAR(20) NOT NULL,            -- 'success', 'failed', 'skipped'
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    duration_seconds DECIMAL(10,2),

    -- Métricas
    records_extracted INTEGER DEFAULT 0,
    records_loaded INTEGER DEFAULT 0,
    duplicates_skipped INTEGER DEFAULT 0,

    -- Error si falló
    error_phase VARCHAR(20),                -- 'extract', 'transform', 'load'
    error_category VARCHAR(50),
    error_message TEXT,

    -- Diagnóstico de red
    server_ip VARCHAR(45),
    server_port INTEGER,
    connection_latency_ms DECIMAL(10,2),

    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_etl_details_execution ON etl_execution_details(execution_id);
CREATE INDEX idx_etl_details_tienda ON etl_execution_details(tienda_id);
CREATE INDEX idx_etl_details_status ON etl_execution_details(status);
