-- The customer's own controls: how often they want to be asked (their own cool-down,
-- never shorter than the global one), and whether their last check-in was "Not now"
-- (which starts a shorter cool-down of its own).

ALTER TABLE customers ADD COLUMN cooldown_days INTEGER CHECK (cooldown_days > 0);
ALTER TABLE customers ADD COLUMN declined_at INTEGER;
