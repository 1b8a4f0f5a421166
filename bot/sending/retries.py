"""The one rule for trying a Bot API call again after a passing failure, used by the poller,
start-up, the menus and every send.

As Telegram asks: a 429 waits exactly its `retry_after`; a 5xx or a network error backs off,
doubling up to a cap, with jitter so that many bots (or sends) hitting one hiccup do not come
back in step; a refusal (400, 403) and a bad token (401, 404) are never passing. A timeout is
tried again only by calls that may safely be repeated: a message that timed out may have
arrived, and sending it again could reach the customer twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """How often and how patiently a kind of call is tried again.

    `attempts` counts the first try (None: forever); the waits between tries double from
    `first` up to `cap` seconds, each drawn between half and all of that. `repeatable`
    calls (reads, setting a menu) are also tried again after a timeout or an answer that
    could not be read. The outbound path (`bot.sending.outbound`), which paces every
    message, waits out up to `refusals` 429s apart from those attempts.
    """

    attempts: int | None
    first: float = 1.0
    cap: float = 30.0
    repeatable: bool = False
    # 429s the outbound path waits out (each its full `retry_after`) before the error
    # reaches the caller.
    refusals: int = 8

    def backoff(self, failures: int) -> float:
        """The wait after the `failures`-th passing failure in a row."""
        # The exponent is bounded: a poller failing for days must not overflow a float.
        ceiling = min(self.cap, self.first * 2 ** min(failures - 1, 60))
        return random.uniform(ceiling / 2, ceiling)

    def delay(self, exc: BaseException, failures: int) -> float | None:
        """Seconds to wait before the next try after `exc`, or None: do not try again."""
        if self.attempts is not None and failures >= self.attempts:
            return None
        if isinstance(exc, RetryAfter):
            return retry_after_seconds(exc)
        if isinstance(exc, (InvalidToken, Forbidden, BadRequest, ChatMigrated)):
            return None
        if isinstance(exc, TimedOut):
            return self.backoff(failures) if self.repeatable else None
        if isinstance(exc, (NetworkError, Conflict)):
            return self.backoff(failures)
        if isinstance(exc, TelegramError) and self.repeatable:
            return self.backoff(failures)  # "Invalid server response": a proxy's error page
        return None


# A message to a person (alert, reply, digest, "you said, we did"): a few tries, then the
# caller records the failure.
SEND = Policy(attempts=3)
# A bulk send (invitation, reminder): a few tries here; the sender queues it again after.
BULK = Policy(attempts=4)
# getUpdates: forever. The bot has nothing to do without it, and Telegram comes back.
POLL = Policy(attempts=None, cap=30.0, repeatable=True)
# Start-up (getMe): about half a minute of tries, then one clear line and exit 1, so that
# a restart during a short Telegram hiccup does not stay down, and a real outage is told.
STARTUP = Policy(attempts=6, first=1.0, cap=8.0, repeatable=True)
# `pulsebot check`: one try; it reports what it finds, it does not wait for a recovery.
ONCE = Policy(attempts=1)
# Command menus: a failed update is tried again later, in the background, for ever less
# often; never fatal.
MENUS = Policy(attempts=None, first=5.0, cap=3600.0, repeatable=True)


def retry_after_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds (a timedelta with PTB_TIMEDELTA, an int before)."""
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


async def with_retries(
    call: Callable[[], Awaitable[T]], policy: Policy = SEND, *, what: str = "a Bot API call"
) -> T:
    """Calls `call`, trying again after passing failures as `policy` says; the last error
    (or one that is not passing) is raised."""
    failures = 0
    while True:
        try:
            return await call()
        except TelegramError as exc:
            failures += 1
            delay = policy.delay(exc, failures)
            if delay is None:
                raise
            log.warning("%s failed (%s); trying again in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
