-- One-time team invite links: whoever opens one first (before it expires) joins the team
-- in its role; a used or expired code is kept so a second opener is told why it failed.

CREATE TABLE team_invites (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_by     INTEGER,
    used_at     INTEGER
);
