DROP FUNCTION etl_execution_reruns(INTEGER);
