-- What the tracker, the queue and the history list need on top of the plan's 033:
-- queued manual runs, the `scheduler` trigger, heartbeats for the reaper, the stores a
-- run was asked for, timezone-aware detail timestamps and the list/filter indexes.

ALTER TABLE etl_executions
    ALTER COLUMN started_at DROP NOT NULL,
    ALTER COLUMN started_at DROP DEFAULT,
    ADD COLUMN tienda_ids TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN current_phase VARCHAR(20),
    ADD COLUMN heartbeat_at TIMESTAMPTZ,
    ADD COLUMN worker_id VARCHAR(100),
    ADD COLUMN job_id UUID,
    ADD CONSTRAINT chk_current_phase CHECK (current_phase IS NULL OR current_phase IN ('extract', 'transform', 'load')),
    ADD CONSTRAINT chk_error_source CHECK (error_source IS NULL OR error_source IN ('klk_api', 'stellar_db', 'postgresql')),
    ADD CONSTRAINT chk_source_system CHECK (source_system IS NULL OR source_system IN ('klk', 'stellar', 'mixed')),
    ADD CONSTRAINT chk_error_category CHECK (error_category IS NULL OR error_category IN (
        'vpn_timeout', 'vpn_unreachable', 'api_timeout', 'api_error', 'api_auth',
        'db_connection', 'db_timeout', 'db_error', 'network_error',
        'data_validation', 'data_format', 'missing_fields', 'encoding_error',
        'pg_connection', 'pg_timeout', 'constraint_violation', 'disk_full', 'deadlock',
        'unknown', 'worker_lost'));

ALTER TABLE etl_executions DROP CONSTRAINT chk_status;
ALTER TABLE etl_executions ADD CONSTRAINT chk_status
    CHECK (status IN ('queued', 'running', 'success', 'partial', 'failed'));
ALTER TABLE etl_executions DROP CONSTRAINT chk_triggered_by;
ALTER TABLE etl_executions ADD CONSTRAINT chk_triggered_by CHECK (
    triggered_by IS NULL OR triggered_by IN ('eventbridge', 'fluxion_admin', 'cli', 'recovery', 'scheduler'));
-- A running execution always has a start; a queued one never has.
ALTER TABLE etl_executions ADD CONSTRAINT chk_started_at
    CHECK ((status = 'queued') = (started_at IS NULL));

-- History list: newest first, queued (no start yet) on top. One index per single filter
-- so that any one filter is an index scan in list order, never a sort.
CREATE INDEX idx_etl_executions_list ON etl_executions (started_at DESC NULLS FIRST, id DESC);
CREATE INDEX idx_etl_executions_name_list ON etl_executions (etl_name, started_at DESC NULLS FIRST, id DESC);
CREATE INDEX idx_etl_executions_status_list ON etl_executions (status, started_at DESC NULLS FIRST, id DESC);
CREATE INDEX idx_etl_executions_triggered_by ON etl_executions (triggered_by, started_at DESC NULLS FIRST, id DESC);
CREATE INDEX idx_etl_executions_category_list ON etl_executions (error_category, started_at DESC NULLS FIRST, id DESC)
    WHERE error_category IS NOT NULL;
CREATE INDEX idx_etl_executions_phase_list ON etl_executions (error_phase, started_at DESC NULLS FIRST, id DESC)
    WHERE error_phase IS NOT NULL;
-- The reaper's scan and the overlap check of manual runs only look at unfinished rows.
CREATE INDEX idx_etl_executions_unfinished ON etl_executions (etl_name, heartbeat_at)
    WHERE status IN ('queued', 'running');

ALTER TABLE etl_execution_details
    ALTER COLUMN started_at TYPE TIMESTAMPTZ USING started_at AT TIME ZONE 'UTC',
    ALTER COLUMN finished_at TYPE TIMESTAMPTZ USING finished_at AT TIME ZONE 'UTC',
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at AT TIME ZONE 'UTC',
    ALTER COLUMN created_at SET DEFAULT now(),
    ADD COLUMN error_source VARCHAR(100),
    ADD COLUMN error_detail TEXT,
    ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN current_phase VARCHAR(20),
    ADD COLUMN extract_duration_seconds DECIMAL(10,2),
    ADD COLUMN transform_duration_seconds DECIMAL(10,2),
    ADD COLUMN load_duration_seconds DECIMAL(10,2),
    ADD COLUMN network_diagnostics JSONB,
    ADD CONSTRAINT chk_detail_status CHECK (status IN ('running', 'success', 'failed', 'skipped')),
    ADD CONSTRAINT chk_detail_error_phase CHECK (error_phase IS NULL OR error_phase IN ('extract', 'transform', 'load')),
    ADD CONSTRAINT chk_detail_source_system CHECK (source_system IS NULL OR source_system IN ('klk', 'stellar')),
    ADD CONSTRAINT uq_detail_execution_tienda UNIQUE (execution_id, tienda_id);

-- Store filter of the history list and per-store statistics.
CREATE INDEX idx_etl_details_tienda_execution ON etl_execution_details (tienda_id, execution_id DESC);
