-- A round counts its population in SQL rather than loading a million customers into Python
-- (storage.customers.sampling_pool), and then reads only the customers it picks.

-- Everything the eligibility rules read, in the order a round picks within a segment:
-- never asked (NULL sorts first) by user id, then by last_asked_at and user id. One pass
-- over it counts every segment, and picking walks it in order without sorting. It takes
-- over from customers_segment_status, which only the old sampling query used.
DROP INDEX customers_segment_status;
CREATE INDEX customers_sampling ON customers(
    segment_id, last_asked_at, user_id, status, paused_until, cooldown_days, declined_at
);

-- Who has an invitation open, read from the index alone: the round's count no longer scans
-- every invitation ever sent. The same entries as before, with user_id added.
DROP INDEX invitations_open;
CREATE INDEX invitations_open ON invitations(state, expires_at, user_id)
    WHERE state IN ('queued', 'asked_score', 'asked_challenge', 'asked_improvement',
                    'asked_hypothesis', 'asked_why', 'asked_contact');
