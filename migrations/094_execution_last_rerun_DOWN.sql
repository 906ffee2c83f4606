DROP FUNCTION etl_execution_reruns(INTEGER, INTEGER);

-- The runs that repeat an execution (POST …/rerun), for its detail: at most 50, oldest first, as the
-- contract's JSON array. They come after it (a larger id) in any later month (085), so the lookup is
-- planned once per connection as a generic plan whose months before p_id are skipped when it starts
-- (a custom plan would plan every later month on each detail: 30 ms for a run from five years ago
-- over 121 months; 0.5 ms generic) — and, in a function, it is one statement of the detail's own.
CREATE FUNCTION etl_execution_reruns(p_id INTEGER) RETURNS JSON
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN (SELECT coalesce(json_agg(json_build_object('id', r.id, 'status', r.status, 'rerun_scope', r.rerun_scope,
                'tiendas_count', r.tiendas_count) ORDER BY r.id), '[]')
            FROM (SELECT id, status, rerun_scope, tiendas_count FROM etl_executions
                  WHERE rerun_of = p_id AND id > p_id ORDER BY id LIMIT 50) r);
END $$;

DROP TRIGGER etl_executions_rerun_keep ON etl_executions;
DROP FUNCTION etl_execution_rerun_keep();
ALTER TABLE etl_executions DROP COLUMN last_rerun_id;
