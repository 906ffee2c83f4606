-- Alert delivery that can be trusted (issue 11 item 6): every alert opened or resolved while a webhook
-- is configured becomes a delivery row and an `alert-delivery` pg-boss job, written together; a runner
-- posts the stored body signed (HMAC-SHA256, X-Fluxion-Signature) and records each attempt here; a
-- failed post throws so pg-boss retries it with backoff. The body holds the alert, never the webhook
-- URL or the secret (those stay in the runners' environment).
CREATE TABLE etl_alert_deliveries (
    id SERIAL PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES etl_alerts(id) ON DELETE CASCADE,
    cambio VARCHAR(10) NOT NULL CHECK (cambio IN ('abierta', 'resuelta')),
    body JSONB NOT NULL,
    -- Posts made so far, and what the last one got back.
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_attempt_at TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    -- One delivery per change of an alert.
    UNIQUE (alert_id, cambio)
);

-- Retried by pg-boss: 10 s, then doubling up to 10 min, 6 attempts in all (ALERT_DELIVERY_ATTEMPTS and
-- ALERT_DELIVERY_RETRY_DELAY_S, which the runner re-applies on start, override these).
SELECT pgboss.create_queue('alert-delivery', '{
  "policy": "standard", "retryLimit": 5, "retryDelay": 10, "retryBackoff": true, "retryDelayMax": 600,
  "expireInSeconds": 120, "deleteAfterSeconds": 604800
}'::jsonb);
