"""The Pulse bot: settings, wiring, handlers, catalogs, command line, demo and sandbox."""

import os

# Opt in now to PTB's coming behaviour of durations as `timedelta` (RetryAfter.retry_after
# and others): code written against it keeps working, and PTB stops warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
