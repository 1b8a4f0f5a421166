-- The team's hypotheses about its customers' challenges, which the check-in's third
-- question probes ("Do you recognise this: …?"), and which hypothesis each invitation asks.

CREATE TABLE hypotheses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL: every segment.
    segment_id    INTEGER REFERENCES segments(id),
    text_nl       TEXT NOT NULL,
    text_en       TEXT NOT NULL,
    -- active, retired
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    -- Retires itself once it has this many answers (NULL: only by command).
    retire_after  INTEGER CHECK (retire_after > 0),
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    retired_at    INTEGER
);

-- Set when the round is recorded: the third question of this check-in probes it.
ALTER TABLE invitations ADD COLUMN hypothesis_id INTEGER REFERENCES hypotheses(id);
CREATE INDEX invitations_hypothesis ON invitations(hypothesis_id) WHERE hypothesis_id IS NOT NULL;

-- The open conversations now include the probe's two questions.
DROP INDEX invitations_open;
CREATE INDEX invitations_open ON invitations(state, expires_at)
    WHERE state IN ('queued', 'asked_score', 'asked_challenge', 'asked_improvement',
                    'asked_hypothesis', 'asked_why', 'asked_contact');
