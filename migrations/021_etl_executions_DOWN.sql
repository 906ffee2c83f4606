DROP TABLE IF EXISTS etl_executions;
