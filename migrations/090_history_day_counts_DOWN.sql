-- Rollback of 090: the day counts, their trigger and functions; 085's retention and 051's rebuild
-- as they were.
CREATE OR REPLACE FUNCTION etl_history_retention(p_keep_months INTEGER, p_dry_run BOOLEAN DEFAULT false, p_now TIMESTAMPTZ DEFAULT now())
RETURNS TABLE (partition_month TEXT, executions BIGINT, store_rows BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    cutoff TIMESTAMPTZ;
    r RECORD;
    lo BIGINT;
    hi BIGINT;
    whole BOOLEAN;
BEGIN
    IF p_keep_months IS NULL OR p_keep_months < 1 THEN
        RAISE EXCEPTION 'keep_months must be at least 1 (got %): retention keeps the current month at least', p_keep_months
            USING ERRCODE = '22023';
    END IF;
    cutoff := (date_trunc('month', p_now AT TIME ZONE 'UTC') - make_interval(months => p_keep_months - 1)) AT TIME ZONE 'UTC';
    FOR r IN
        SELECT c.relname AS part, substr(c.relname, length('etl_executions_') + 1) AS suffix,
               pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'etl_executions'::regclass
        ORDER BY c.relname
    LOOP
        IF r.suffix = 'legacy' THEN
            lo := -2147483648;
            hi := substring(r.bound FROM 'TO \((\d+)\)')::bigint;
            EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I WHERE greatest(created_at, started_at, finished_at) >= $1)', r.part)
                INTO STRICT whole USING cutoff;
            CONTINUE WHEN NOT whole;
        ELSE
            lo := ((split_part(r.suffix, '_', 1)::int - 2000) * 12 + split_part(r.suffix, '_', 2)::int - 1) * 2097152::bigint;
            CONTINUE WHEN lo >= etl_month_first_id(cutoff);
            hi := lo + 2097152;
        END IF;
        partition_month := r.suffix;
        EXECUTE format('SELECT count(*) FROM %I', r.part) INTO executions;
        EXECUTE format('SELECT count(*) FROM %I', 'etl_execution_details_' || r.suffix) INTO store_rows;
        IF NOT p_dry_run THEN
            UPDATE etl_executions SET rerun_of = NULL
                WHERE rerun_of >= lo AND rerun_of < hi AND NOT (id >= lo AND id < hi);
            UPDATE etl_executions SET recovered_gap_id = NULL
                WHERE recovered_gap_id >= lo AND recovered_gap_id < hi AND NOT (id >= lo AND id < hi);
            DELETE FROM etl_gap_recovery WHERE gap_id >= lo AND gap_id < hi;
            UPDATE etl_gap_recovery SET last_execution_id = NULL WHERE last_execution_id >= lo AND last_execution_id < hi;
            EXECUTE format('DROP TABLE %I', 'etl_execution_details_' || r.suffix);
            EXECUTE format('ALTER TABLE etl_executions DETACH PARTITION %I', r.part);
            EXECUTE format('DROP TABLE %I', r.part);
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;

DROP FUNCTION etl_history_counts_forget(REGCLASS, REGCLASS);
DROP FUNCTION etl_stats_rebuild();
ALTER FUNCTION etl_stats_rebuild_rollups() RENAME TO etl_stats_rebuild;
DROP TRIGGER etl_executions_day_counts_truncated ON etl_executions;
DROP TRIGGER etl_executions_day_counts_update ON etl_executions;
DROP TRIGGER etl_executions_day_counts ON etl_executions;
DROP FUNCTION etl_execution_day_counts_truncated();
DROP TRIGGER etl_execution_details_day_counts_truncated ON etl_execution_details;
DROP TRIGGER etl_execution_details_day_counts_update ON etl_execution_details;
DROP TRIGGER etl_execution_details_day_counts ON etl_execution_details;
DROP FUNCTION etl_execution_details_day_counts_truncated();
DROP FUNCTION etl_execution_details_day_counts_keep();
DROP FUNCTION etl_execution_details_day_counts_of(REGCLASS);
DROP FUNCTION etl_execution_day_counts_keep();
DROP FUNCTION etl_execution_day_counts_of(REGCLASS);
DROP FUNCTION etl_execution_day_key(TIMESTAMPTZ);
DROP TABLE etl_execution_day_counts;
DROP FUNCTION etl_first_id_not_started_before(TIMESTAMPTZ);
DROP TRIGGER etl_executions_backdated ON etl_executions;
DROP FUNCTION etl_history_backdated_rebuild();
DROP FUNCTION etl_history_backdated_keep();
DROP FUNCTION etl_id_month_start(INTEGER);
DROP FUNCTION etl_month_first_id_of(INTEGER);
DROP TABLE etl_history_backdated_months;

-- 085's etl_month_first_id, unsaturated.
CREATE OR REPLACE FUNCTION etl_month_first_id(p_at TIMESTAMPTZ) RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((extract(YEAR FROM p_at AT TIME ZONE 'UTC')::int - 2000) * 12
            + extract(MONTH FROM p_at AT TIME ZONE 'UTC')::int - 1) * 2097152
$$;
