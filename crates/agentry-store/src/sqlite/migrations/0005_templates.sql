-- Prompt templates: every text each one has had, and which of them is in use.
CREATE TABLE template_versions (
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    body       TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('default', 'file', 'api')),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

-- At most one active version per template.
CREATE UNIQUE INDEX template_versions_active ON template_versions (name) WHERE active = 1;
