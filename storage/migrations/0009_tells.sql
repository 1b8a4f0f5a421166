-- "You said, we did": a short update from the team to the customers whose answers fell in
-- a theme or who answered a hypothesis. The audience is fixed when the update is drafted;
-- each delivery is claimed before it is sent, so a restart never sends one twice.

CREATE TABLE tells (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- theme or hypothesis, and which (the theme's label, or the hypothesis id)
    target_kind   TEXT NOT NULL CHECK (target_kind IN ('theme', 'hypothesis')),
    target        TEXT NOT NULL,
    message       TEXT NOT NULL,
    -- draft, confirmed, cancelled
    status        TEXT NOT NULL DEFAULT 'draft',
    created_by    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    decided_by    INTEGER,
    decided_at    INTEGER
);

CREATE TABLE tell_deliveries (
    tell_id    INTEGER NOT NULL REFERENCES tells(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    -- pending, sending, sent, skipped (stopped, paused or blocked by then), failed
    status     TEXT NOT NULL DEFAULT 'pending',
    sent_at    INTEGER,
    error      TEXT,
    PRIMARY KEY (tell_id, user_id)
);
CREATE INDEX tell_deliveries_pending ON tell_deliveries(status) WHERE status = 'pending';
