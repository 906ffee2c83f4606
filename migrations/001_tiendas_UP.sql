-- Stores of the chain. Connection settings only: credentials come from the environment
-- (KLK_API_TOKEN, STELLAR_USER/STELLAR_PASSWORD), never from this table.
CREATE TABLE tiendas (
    id VARCHAR(50) PRIMARY KEY CHECK (id ~ '^[a-z0-9_]{1,50}$'),
    nombre VARCHAR(100) NOT NULL,
    source_system VARCHAR(20) NOT NULL CHECK (source_system IN ('klk', 'stellar')),
    host VARCHAR(255) NOT NULL,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    database_name VARCHAR(128),
    settings JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
