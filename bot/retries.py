"""Sends that try again after a passing failure: the one rule for alerts, replies and
digests (invitations have their own, in `bot.delivery`, because they are requeued)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

T = TypeVar("T")

# Passing failures (5xx, network) are tried this often, with doubling waits.
ATTEMPTS = 3
FIRST_BACKOFF = 1.0


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Calls `call`, trying again after passing failures (5xx, network); a refusal (403,
    400) or a timeout (it may have arrived) is raised at once."""
    backoff = FIRST_BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except (TimedOut, Forbidden, BadRequest):
            raise
        except NetworkError:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(backoff)
            backoff *= 2
    raise AssertionError("unreachable")
