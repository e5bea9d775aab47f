-- Every ops alert's outcome: sent, failed, debounced or filtered.
CREATE TABLE alert_history (
    id           INTEGER PRIMARY KEY,
    alert_id     TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    route_key    TEXT NOT NULL,
    webhook_url  TEXT NOT NULL,
    routing_key  TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'debounced', 'filtered')),
    attempts     INTEGER NOT NULL,
    last_error   TEXT,
    slo_breached INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
