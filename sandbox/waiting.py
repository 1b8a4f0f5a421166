"""Waiting with a deadline for the simulated world to reach some state, without polling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Signal:
    """Wakes every waiter whenever the simulated world changes, so each can re-check its condition.

    `notify` is synchronous, so state changes made in plain functions can announce themselves.
    """

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wakes everyone waiting now; later waiters wait for the next change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, check: Callable[[], object], seconds: float) -> None:
        """Returns once `check()` is true; raises `TimeoutError` after `seconds`."""
        async with asyncio.timeout(seconds):
            while not check():
                await self._changed.wait()
