-- Themes by meaning: each free-text answer's sentence embedding, stored beside it once it
-- is computed, and the themes the weekly digests found, kept from week to week.

-- One vector per answer, float16, L2-normalised; `model` names the model that made it, so
-- a change of model recomputes instead of comparing vectors of two models.
CREATE TABLE answer_vectors (
    answer_id  INTEGER PRIMARY KEY REFERENCES answers(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    vector     BLOB NOT NULL
);

-- A vector goes with its words: whatever erases or changes an answer's text (/forget,
-- retention) takes its vector too, so no path can leave one behind.
CREATE TRIGGER answer_vectors_follow_text AFTER UPDATE OF value ON answers
WHEN NEW.value IS NOT OLD.value
BEGIN
    DELETE FROM answer_vectors WHERE answer_id = NEW.id;
END;

-- A theme's identity across weeks: its question, where it sits (the mean of its answers'
-- vectors, float16) and the model of that centroid.
CREATE TABLE themes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question    TEXT NOT NULL,
    model       TEXT NOT NULL,
    centroid    BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- How many answers a theme had in the week starting at `week_start` (the weekly digest's
-- period), written once per week by the digest that found it.
CREATE TABLE theme_weeks (
    theme_id    INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    week_start  INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (theme_id, week_start)
);
CREATE INDEX theme_weeks_week ON theme_weeks(week_start);
