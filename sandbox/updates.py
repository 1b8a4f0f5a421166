"""The bot's pending updates: numbered, filtered by `allowed_updates`, confirmed by offset."""

from __future__ import annotations

import contextlib
from typing import Any

from sandbox.waiting import Signal

# Telegram leaves these out unless the bot asks for them by name in allowed_updates.
_OPT_IN_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Updates waiting for `getUpdates`, as Telegram keeps them until an offset confirms them."""

    def __init__(self, changes: Signal) -> None:
        self._changes = changes  # the world's: confirmations matter to `Sandbox.wait_idle`
        self._arrivals = Signal()  # only for long polls, which care about nothing else
        self._pending: list[dict[str, Any]] = []
        self._next_id = 1
        self._allowed: frozenset[str] | None = None  # None: Telegram's default selection
        self._closed = False

    @property
    def pending(self) -> int:
        """How many updates are not yet confirmed by the bot."""
        return len(self._pending)

    def push(self, update_type: str, payload: dict[str, Any]) -> int | None:
        """Adds an update; returns its update_id, or None if allowed_updates filters it out."""
        # Like Telegram, allowed_updates applies when an update is created, not when fetched.
        if not self._accepts(update_type):
            return None
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, update_type: payload})
        self._arrivals.notify()
        self._changes.notify()
        return update_id

    def first(self) -> dict[str, Any] | None:
        """The oldest pending update (what a webhook gets next), or None."""
        return self._pending[0] if self._pending else None

    def confirm_one(self, update_id: int) -> None:
        """Forgets one update: the webhook took it."""
        self._pending = [u for u in self._pending if u["update_id"] != update_id]
        self._changes.notify()

    def allow(self, allowed_updates: list[str] | None) -> None:
        """Sets which update types are created from now on (None keeps the last setting)."""
        if allowed_updates is not None:
            # An empty list restores the default selection.
            self._allowed = frozenset(allowed_updates) or None

    def drop_pending(self) -> None:
        """Forgets every pending update (deleteWebhook with drop_pending_updates)."""
        self._pending.clear()
        self._changes.notify()

    def close(self) -> None:
        """Ends every long poll now and makes new ones return at once (the server is stopping)."""
        self._closed = True
        self._arrivals.notify()

    def reopen(self) -> None:
        """Lets long polls wait again after a restart."""
        self._closed = False

    async def fetch(
        self,
        offset: int | None,
        limit: int,
        poll_seconds: float,
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        """Confirms updates below `offset`, then waits up to `poll_seconds` for at least one."""
        self.allow(allowed_updates)
        if offset:
            self._confirm(offset)
        if poll_seconds > 0 and not self._pending:
            with contextlib.suppress(TimeoutError):
                await self._arrivals.wait_until(
                    lambda: self._pending or self._closed, poll_seconds
                )
        return self._pending[:limit]

    def _accepts(self, update_type: str) -> bool:
        if self._allowed is None:
            return update_type not in _OPT_IN_TYPES
        return update_type in self._allowed

    def _confirm(self, offset: int) -> None:
        before = len(self._pending)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            # A negative offset keeps only the last -offset updates and forgets the rest.
            self._pending = self._pending[offset:]
        if len(self._pending) != before:
            self._changes.notify()
