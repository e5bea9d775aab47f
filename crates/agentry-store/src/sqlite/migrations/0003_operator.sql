-- Small named state objects, as JSON: operator flags (`flag:<name>`), dispatcher heartbeats
-- (`orchestrator:<id>`) and the like.
CREATE TABLE state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- The person assigned to review an issue; a new assignment replaces the old one.
CREATE TABLE review_assignments (
    issue_id    TEXT PRIMARY KEY REFERENCES issues (id),
    reviewer    TEXT NOT NULL,
    assigned_at TEXT NOT NULL
) WITHOUT ROWID;

-- The status reads the last day's events.
CREATE INDEX events_created ON events (created_at);
