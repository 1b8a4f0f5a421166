-- The customer base: the company's own list of customers (from its CRM or a spreadsheet),
-- imported from CSV, each with a personal one-time invite link that joins their Telegram
-- account to the record on consent.

-- One row per customer of the company, by the company's own id. `user_id` is the Telegram
-- account joined to it (NULL until someone consents through its personal link, and again
-- after /forget). `gone_at`: missing from an import and confirmed gone, no longer sampled;
-- `stopped_account_at` is when that stopped the joined account, so a return undoes it.
CREATE TABLE base_customers (
    id                  INTEGER PRIMARY KEY,
    external_id         TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    segment_id          INTEGER NOT NULL REFERENCES segments(id),
    language            TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    attributes          TEXT NOT NULL DEFAULT '{}',  -- the file's other columns, JSON
    user_id             INTEGER UNIQUE,
    joined_at           INTEGER,
    gone_at             INTEGER,
    stopped_account_at  INTEGER,
    imported_at         INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX base_customers_segment ON base_customers(segment_id, gone_at, user_id);

-- Personal invite links: only a hash of the token is kept, so the database alone cannot
-- be turned into working links. One-time: used_at/used_by once someone consented.
CREATE TABLE personal_invites (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    base_id     INTEGER NOT NULL REFERENCES base_customers(id) ON DELETE CASCADE,
    created_by  INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     INTEGER
);
CREATE INDEX personal_invites_base ON personal_invites(base_id);

-- A consent question opened by a personal link: consent joins the account to its record.
ALTER TABLE pending_enrollments ADD COLUMN personal_invite_id INTEGER
    REFERENCES personal_invites(id) ON DELETE CASCADE;

-- A CSV sent to the bot by an admin: previewed, kept on disk until confirmed or cancelled.
CREATE TABLE base_imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER NOT NULL,
    file_name   TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'cancelled')),
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER
);
