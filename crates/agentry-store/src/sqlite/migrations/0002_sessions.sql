-- The last fencing token handed out for an issue: tokens only grow.
ALTER TABLE issues ADD COLUMN claim_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE issues ADD COLUMN failed_sessions INTEGER NOT NULL DEFAULT 0;

CREATE TABLE claims (
    issue_id        TEXT PRIMARY KEY REFERENCES issues (id),
    token           INTEGER NOT NULL,
    session_id      TEXT NOT NULL,
    orchestrator_id TEXT NOT NULL,
    host            TEXT NOT NULL,
    pid             INTEGER NOT NULL,
    claimed_at      TEXT NOT NULL,
    lease_until     TEXT NOT NULL
);

ALTER TABLE agent_runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
-- The run's normalised events, as JSON Lines.
ALTER TABLE agent_runs ADD COLUMN log_ref TEXT;
CREATE INDEX agent_runs_live ON agent_runs (ended_at) WHERE ended_at IS NULL;
-- When the queue next grows: the earliest future ready_at of open issues.
CREATE INDEX issues_ready_at ON issues (status, ready_at);
