SELECT pgboss.delete_queue('alert-delivery');
DROP TABLE IF EXISTS etl_alert_deliveries;
