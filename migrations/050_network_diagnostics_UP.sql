-- One shape for network diagnostics (contract: ExecutionNetworkDiagnostics, TiendaNetworkDiagnostics).
-- (Each store's timeline column, contract TimelineSpan[], is migration 045's.)
--
-- Rows written before this migration carry the runner's earlier shapes:
--   store:     {ip, port, latency_ms, code, requests, errors, tcp_connected, failed_attempts}, nulls omitted
--   execution: {failed_stores, stores: [{tienda_id, ip, port, latency_ms, code}]} (≤ 5 stores)
-- They are rewritten to the contract's shapes so that the history API serves one shape:
--   store:     code → error_code; ip, port, latency_ms, error_code always present (null when unknown)
--   execution: {ip, port, tienda_id, latency_ms, error_code} of the dominant error's store (the
--              earliest-failing store of the dominant category), failed_stores, and every failed
--              store's address by tienda_id (≤ 25), read from the store rows. An execution whose
--              store rows are gone keeps what its old summary listed.
-- Neither column is read by the statistics triggers of 036, so these updates move no rollup.

UPDATE etl_execution_details d SET network_diagnostics =
    jsonb_build_object(
        'ip', d.network_diagnostics->'ip',
        'port', d.network_diagnostics->'port',
        'latency_ms', d.network_diagnostics->'latency_ms',
        'error_code', coalesce(d.network_diagnostics->'error_code', d.network_diagnostics->'code'))
    || jsonb_strip_nulls(jsonb_build_object(
        'tcp_connected', d.network_diagnostics->'tcp_connected',
        'requests', d.network_diagnostics->'requests',
        'errors', d.network_diagnostics->'errors',
        'failed_attempts', d.network_diagnostics->'failed_attempts'))
WHERE jsonb_typeof(d.network_diagnostics) = 'object' AND NOT d.network_diagnostics ? 'error_code';

WITH failed AS (
    SELECT d.execution_id, d.id, d.tienda_id, d.finished_at, d.error_category,
        jsonb_build_object('tienda_id', d.tienda_id, 'ip', d.server_ip, 'port', d.server_port,
            'latency_ms', d.connection_latency_ms::float8,
            'error_code', d.network_diagnostics->'error_code') AS address
    FROM etl_execution_details d
    JOIN etl_executions e ON e.id = d.execution_id
    WHERE d.status = 'failed' AND jsonb_typeof(e.network_diagnostics) = 'object'
        AND NOT e.network_diagnostics ? 'error_code'
),
listed AS (
    SELECT execution_id, count(*)::int AS n,
        to_jsonb((array_agg(address ORDER BY tienda_id))[1:25]) AS stores
    FROM failed GROUP BY execution_id
),
dominant AS (
    SELECT DISTINCT ON (f.execution_id) f.execution_id, f.address
    FROM failed f JOIN etl_executions e ON e.id = f.execution_id
    ORDER BY f.execution_id, (f.error_category IS NOT DISTINCT FROM e.error_category) DESC,
        f.finished_at NULLS LAST, f.id
)
UPDATE etl_executions e SET network_diagnostics =
    jsonb_build_object('ip', dm.address->'ip', 'port', dm.address->'port', 'tienda_id', dm.address->'tienda_id',
        'latency_ms', dm.address->'latency_ms', 'error_code', dm.address->'error_code',
        'failed_stores', l.n, 'stores', l.stores)
FROM listed l JOIN dominant dm ON dm.execution_id = l.execution_id
WHERE e.id = l.execution_id;

-- No store rows left: convert the old summary itself (its first store was the earliest failure).
UPDATE etl_executions e SET network_diagnostics =
    jsonb_build_object('ip', s.first->'ip', 'port', s.first->'port', 'tienda_id', s.first->'tienda_id',
        'latency_ms', s.first->'latency_ms', 'error_code', s.first->'error_code',
        'failed_stores', greatest(coalesce((e.network_diagnostics->>'failed_stores')::int, 0), s.n, 1),
        'stores', s.stores)
FROM (
    SELECT x.id, count(o.store)::int AS n, (array_agg(o.address ORDER BY o.ord))[1] AS first,
        coalesce(jsonb_agg(o.address ORDER BY o.address->>'tienda_id') FILTER (WHERE o.address->>'tienda_id' IS NOT NULL),
            '[]') AS stores
    FROM etl_executions x
    LEFT JOIN LATERAL (
        SELECT st.store, st.ord, jsonb_build_object('tienda_id', st.store->'tienda_id', 'ip', st.store->'ip',
            'port', st.store->'port', 'latency_ms', st.store->'latency_ms', 'error_code', st.store->'code') AS address
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(x.network_diagnostics->'stores') = 'array'
            THEN x.network_diagnostics->'stores' ELSE '[]' END) WITH ORDINALITY AS st(store, ord)
    ) o ON TRUE
    WHERE jsonb_typeof(x.network_diagnostics) = 'object' AND NOT x.network_diagnostics ? 'error_code'
    GROUP BY x.id
) s
WHERE e.id = s.id;
