"""The Pulse bot: one package per feature on `bot.common`, wired in `bot.app`; settings,
catalogs, the command line and the demo."""

import os

# Opt in now to PTB's coming behaviour of durations as `timedelta` (RetryAfter.retry_after
# and others): code written against it keeps working, and PTB stops warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
