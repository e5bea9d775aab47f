-- Planner runs: started, then ended with an outcome, a duration and the answers asked.
CREATE TABLE planner_runs (
    id          INTEGER PRIMARY KEY,
    planner     TEXT NOT NULL,
    params      TEXT NOT NULL,
    outcome     TEXT CHECK (outcome IN ('Success', 'Partial', 'Failed', 'Cancelled')),
    error       TEXT,
    duration_ms INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);

-- Each plan the contract rejected, by the reason of its first rejection.
CREATE TABLE planner_contract_failures (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES planner_runs (id),
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX planner_contract_failures_created ON planner_contract_failures (created_at);
