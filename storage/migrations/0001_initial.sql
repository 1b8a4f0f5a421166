-- Pulse's first schema: people, segments and their invite codes, runtime settings, audit.
-- Times are integer seconds since the epoch (UTC).

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL
);

-- /start without a code enrolls into this segment.
INSERT INTO segments (id, name, created_at) VALUES (1, 'general', 0);

CREATE TABLE invite_codes (
    code        TEXT PRIMARY KEY,
    segment_id  INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX invite_codes_segment ON invite_codes(segment_id);

CREATE TABLE customers (
    user_id       INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT,
    username      TEXT,
    language      TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    segment_id    INTEGER NOT NULL REFERENCES segments(id),
    status        TEXT NOT NULL CHECK (status IN ('active', 'paused', 'stopped', 'blocked')),
    paused_until  INTEGER,
    consented_at  INTEGER NOT NULL,
    enrolled_at   INTEGER NOT NULL,
    stopped_at    INTEGER,
    last_asked_at INTEGER,
    updated_at    INTEGER NOT NULL,
    CHECK ((status = 'paused') = (paused_until IS NOT NULL))
);
CREATE INDEX customers_segment_status ON customers(segment_id, status, last_asked_at);

-- A consent question that is out and not yet answered: the enrollment conversation's state.
-- AUTOINCREMENT: ids are never reused, so a button of an older question never matches a newer.
CREATE TABLE pending_enrollments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL UNIQUE,
    chat_id     INTEGER NOT NULL,
    segment_id  INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    language    TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    created_at  INTEGER NOT NULL
);

-- "No" to consent stores nothing but the refusal itself: no name, no handle.
CREATE TABLE consent_refusals (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    segment_id  INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    refused_at  INTEGER NOT NULL
);

CREATE TABLE team_members (
    user_id     INTEGER PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    name        TEXT,
    username    TEXT,
    language    TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('nl', 'en')),
    added_by    INTEGER,
    added_at    INTEGER NOT NULL
);

-- Runtime settings changed by admin command; values are JSON.
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_by  INTEGER,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
