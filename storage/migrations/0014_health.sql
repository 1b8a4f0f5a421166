-- /healthz writes here to show the database takes a write (a transaction that writes
-- nothing touches no file in WAL mode, so a full disk or a read-only mount would pass).
CREATE TABLE health (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at  INTEGER NOT NULL
);
