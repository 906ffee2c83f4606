DROP TABLE IF EXISTS etl_schedules_state;
