-- The statistics' `running` (started in the window, not finished) and `queued` (may still start now,
-- 085's etl_may_have_started_since) for one ETL or all. In the statistics statement they were two
-- counts over the partitions of the window, each planned on every request with each month's 19
-- indexes: 5 ms of its 10 ms planning at 1M executions. Here they are planned once per connection
-- as a generic plan whose months outside the window are skipped when it starts (0.7 ms in all).
CREATE FUNCTION etl_stats_active_counts(p_since TIMESTAMPTZ, p_now TIMESTAMPTZ, p_etl_name TEXT,
    OUT running INTEGER, OUT queued INTEGER)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    SELECT count(*) FROM etl_executions e
    WHERE e.status = 'running' AND e.started_at >= p_since AND etl_may_have_started_since(e.id, p_since)
      AND (p_etl_name IS NULL OR e.etl_name = p_etl_name)
    INTO running;
    SELECT count(*) FROM etl_executions e
    WHERE e.status = 'queued' AND etl_may_have_started_since(e.id, p_now)
      AND (p_etl_name IS NULL OR e.etl_name = p_etl_name)
    INTO queued;
END $$;
