-- Follow-ups: the thread the team opens with a customer who scored low or asked to be
-- contacted. Its alert to each team member, every message both ways (who, when), the reply a
-- staff member is writing, and who marked it done.

CREATE TABLE followups (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One thread per check-in: a replayed update or a later answer finds this one.
    invitation_id    INTEGER NOT NULL UNIQUE REFERENCES invitations(id),
    user_id          INTEGER NOT NULL REFERENCES customers(user_id),
    -- What raised it first: 'score' (at or below alert_score) or 'contact' (asked for it).
    reason           TEXT NOT NULL CHECK (reason IN ('score', 'contact')),
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at       INTEGER NOT NULL,
    -- Staff quiet hours: the alert goes out at this time (the upkeep sends held ones).
    alert_after      INTEGER NOT NULL,
    alerted_at       INTEGER,
    -- How many of the check-in's answers the sent alerts show; more answers edit them.
    shown_answers    INTEGER NOT NULL DEFAULT 0,
    -- The team member the customer's messages go back to: the last one who wrote to them.
    replier_id       INTEGER,
    last_activity_at INTEGER NOT NULL,
    closed_at        INTEGER,
    closed_by        INTEGER
);
CREATE INDEX followups_customer ON followups(user_id, status, last_activity_at);
CREATE INDEX followups_held ON followups(alert_after) WHERE alerted_at IS NULL;

-- The alert's delivery to each team member, claimed before it is sent.
CREATE TABLE followup_alerts (
    followup_id  INTEGER NOT NULL REFERENCES followups(id),
    user_id      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    message_id   INTEGER,
    claimed_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    error        TEXT,
    PRIMARY KEY (followup_id, user_id)
);

-- Every message of a thread: a team member's reply relayed to the customer, or the
-- customer's answer passed back to that team member (`staff_id` in both directions).
CREATE TABLE followup_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    followup_id  INTEGER NOT NULL REFERENCES followups(id),
    direction    TEXT NOT NULL CHECK (direction IN ('to_customer', 'from_customer')),
    staff_id     INTEGER NOT NULL,
    staff_name   TEXT,
    text         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error        TEXT
);
CREATE INDEX followup_messages_thread ON followup_messages(followup_id, id);

-- A reply a team member is writing: their next text goes to this thread's customer.
CREATE TABLE followup_drafts (
    staff_id     INTEGER PRIMARY KEY,
    staff_name   TEXT,
    followup_id  INTEGER NOT NULL REFERENCES followups(id),
    -- 1: they were shown that someone else replied and chose to add to it.
    confirmed    INTEGER NOT NULL DEFAULT 0,
    -- Typed while someone else replied: held until they press "Send anyway".
    text         TEXT,
    created_at   INTEGER NOT NULL
);
