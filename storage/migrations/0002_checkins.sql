-- Check-in rounds: the round, its sample's composition, one invitation per customer (the
-- check-in conversation's state and its delivery), and the answers.

CREATE TABLE rounds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'checkin' for the schedule; 'manual:<admin id>:<time>' for /checkin_now.
    schedule       TEXT NOT NULL,
    scheduled_for  INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    started_by     INTEGER,
    segment_id     INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    sample_size    TEXT NOT NULL,
    target         INTEGER NOT NULL,
    seed           INTEGER NOT NULL,
    skipped_paused   INTEGER NOT NULL DEFAULT 0,
    skipped_open     INTEGER NOT NULL DEFAULT 0,
    skipped_cooldown INTEGER NOT NULL DEFAULT 0,
    -- A round is idempotent per (schedule, scheduled time): a duplicate trigger conflicts here.
    UNIQUE (schedule, scheduled_for)
);

-- The sample's composition against the population, per segment, for the digest's weighting.
CREATE TABLE round_strata (
    round_id    INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    segment_id  INTEGER NOT NULL,
    population  INTEGER NOT NULL,
    eligible    INTEGER NOT NULL,
    invited     INTEGER NOT NULL,
    PRIMARY KEY (round_id, segment_id)
);

CREATE TABLE invitations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id      INTEGER NOT NULL REFERENCES rounds(id),
    user_id       INTEGER NOT NULL REFERENCES customers(user_id),
    chat_id       INTEGER NOT NULL,
    segment_id    INTEGER NOT NULL,
    language      TEXT NOT NULL,
    -- The conversation: queued, asked_score, asked_challenge, asked_improvement,
    -- asked_contact, done, declined, expired, stopped, failed.
    state         TEXT NOT NULL,
    -- The first question's delivery: pending, sending, sent, uncertain, failed.
    delivery      TEXT NOT NULL DEFAULT 'pending',
    -- The state whose question the customer is known to have been sent. When it lags behind
    -- `state` (the process died between committing an answer and sending the next
    -- question), the question is asked again at start-up.
    prompted_state TEXT,
    score         INTEGER CHECK (score BETWEEN 1 AND 5),
    gave_challenge INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    send_after    INTEGER NOT NULL,
    sent_at       INTEGER,
    message_id    INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    reminded_at   INTEGER,
    expires_at    INTEGER NOT NULL,
    answered_at   INTEGER,
    finished_at   INTEGER,
    UNIQUE (round_id, user_id)
);
CREATE INDEX invitations_delivery ON invitations(delivery, send_after);
CREATE INDEX invitations_user ON invitations(user_id, id);
CREATE INDEX invitations_open ON invitations(state, expires_at)
    WHERE state IN ('queued', 'asked_score', 'asked_challenge', 'asked_improvement', 'asked_contact');

CREATE TABLE answers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id  INTEGER NOT NULL REFERENCES invitations(id),
    -- score, challenge, improvement, contact
    question       TEXT NOT NULL,
    value          TEXT,
    skipped        INTEGER NOT NULL DEFAULT 0,
    answered_at    INTEGER NOT NULL,
    UNIQUE (invitation_id, question)
);
CREATE INDEX answers_time ON answers(answered_at, question);
