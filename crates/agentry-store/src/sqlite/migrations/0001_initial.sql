CREATE TABLE issues (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL
                 CHECK (status IN ('open', 'in_progress', 'needs_review', 'closed', 'blocked')),
    priority     INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 4),
    ready_at     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    -- JSON arrays of strings
    labels       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    verify       TEXT NOT NULL,
    done_when    TEXT NOT NULL,
    not_your_job TEXT NOT NULL
);
-- The ready queue walks this index in order and stops after LIMIT matches.
CREATE INDEX issues_queue ON issues (status, priority, ready_at, id);

CREATE TABLE links (
    src        TEXT NOT NULL REFERENCES issues (id),
    kind       TEXT NOT NULL CHECK (kind IN ('depends-on', 'related', 'parent')),
    dst        TEXT NOT NULL REFERENCES issues (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (src, kind, dst)
) WITHOUT ROWID;
CREATE INDEX links_dst ON links (dst, kind);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id   TEXT NOT NULL REFERENCES issues (id),
    session_id TEXT,
    event_type TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX events_issue ON events (issue_id, id);

CREATE TABLE agent_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id     TEXT NOT NULL REFERENCES issues (id),
    session_id   TEXT NOT NULL,
    role         TEXT NOT NULL,
    backend      TEXT NOT NULL,
    model        TEXT,
    pid          INTEGER,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    exit_code    INTEGER,
    turns        INTEGER,
    tokens_in    INTEGER,
    tokens_out   INTEGER,
    tokens_cache INTEGER,
    cost_usd     REAL,
    error        TEXT
);
