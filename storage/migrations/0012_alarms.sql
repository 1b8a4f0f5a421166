-- Alarms to the admins when Pulse itself fails (an error in a handler, a round, a digest):
-- when each kind last went out, so it goes at most once an hour, also across restarts (a
-- crash loop would otherwise alarm on every start).
CREATE TABLE alarms (
    kind     TEXT PRIMARY KEY,
    sent_at  INTEGER NOT NULL
);
