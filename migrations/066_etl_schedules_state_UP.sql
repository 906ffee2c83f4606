-- Schedules view (issue 13, Deliver 3): whether an ETL's cron schedule is paused, recorded here so that
-- every runner honours it (a paused schedule's fired job is dropped without starting a run) and every
-- panel shows it. The cron expression itself stays pg-boss's (pgboss.schedule, from VENTAS_CRON and
-- INVENTARIO_CRON); a missing row means "not paused".
CREATE TABLE etl_schedules_state (
    etl_name VARCHAR(50) PRIMARY KEY,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    paused_by TEXT,
    paused_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT chk_schedule_etl_name CHECK (etl_name IN ('ventas', 'inventario')),
    CONSTRAINT chk_schedule_paused CHECK (paused = (paused_at IS NOT NULL))
);
