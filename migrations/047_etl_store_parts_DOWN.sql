SELECT pgboss.delete_queue('etl-tienda');
ALTER TABLE etl_executions DROP COLUMN IF EXISTS parts_pending;
