-- Rollback of 050: diagnostics back to the runner's earlier shapes (nulls omitted, `code`; the
-- execution keeps failed_stores and its first five stores).

UPDATE etl_executions e SET network_diagnostics = jsonb_build_object(
        'failed_stores', e.network_diagnostics->'failed_stores',
        'stores', coalesce((
            SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('tienda_id', st.store->'tienda_id',
                'ip', st.store->'ip', 'port', st.store->'port', 'latency_ms', st.store->'latency_ms',
                'code', st.store->'error_code')) ORDER BY st.ord)
            FROM jsonb_array_elements(e.network_diagnostics->'stores') WITH ORDINALITY AS st(store, ord)
            WHERE st.ord <= 5), '[]'))
WHERE jsonb_typeof(e.network_diagnostics) = 'object' AND e.network_diagnostics ? 'error_code';

UPDATE etl_execution_details d SET network_diagnostics =
    jsonb_strip_nulls((d.network_diagnostics - 'error_code') || jsonb_build_object('code', d.network_diagnostics->'error_code'))
WHERE jsonb_typeof(d.network_diagnostics) = 'object' AND d.network_diagnostics ? 'error_code';
