-- The durable inbox: every update from Telegram is written here before its offset is
-- confirmed, and handled from here, so a crash loses nothing.

CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    -- The chat whose updates must be handled in order (NULL: no chat, no order needed).
    -- Both are cleared once the update is handled: what customers wrote is kept only where
    -- a feature stores it (an answer), never as a raw copy.
    chat_id      INTEGER,
    payload      TEXT,
    received_at  INTEGER NOT NULL,
    -- When the update's effect (an answer, a consent) was committed: a second handling
    -- after a crash sees this and changes nothing.
    effect_at    INTEGER,
    done_at      INTEGER
);

CREATE INDEX inbox_open ON inbox (update_id) WHERE done_at IS NULL;
