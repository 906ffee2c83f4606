ALTER TABLE etl_execution_details DROP COLUMN IF EXISTS timeline;
