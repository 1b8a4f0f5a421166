-- The weekly staff digest: each digest as it was rendered (period, figures, text), and who
-- it was sent to, so a digest can be re-read and never goes to the same person twice.

CREATE TABLE digests (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    period_start  INTEGER NOT NULL,
    period_end    INTEGER NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    -- The figures the text was rendered from, as JSON (the chart is drawn from them).
    figures       TEXT NOT NULL,
    -- The message as sent: Telegram HTML, its parts separated by a form feed.
    text          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (period_start, period_end, language)
);

-- One row per person per scheduled period, claimed before the send: a second run for the
-- same period (a duplicate trigger, the catch-up after a restart) finds it and sends nothing.
CREATE TABLE digest_deliveries (
    period_start  INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    digest_id     INTEGER NOT NULL REFERENCES digests(id),
    -- sending, sent, failed
    status        TEXT NOT NULL,
    claimed_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    error         TEXT,
    PRIMARY KEY (period_start, user_id)
);

-- The digest's figures read one period of invitations from this index alone.
CREATE INDEX invitations_digest
    ON invitations(created_at, segment_id, delivery, score, answered_at);
