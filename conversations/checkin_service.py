"""Runs the check-in transitions: each answer and the new state commit in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from conversations.checkin import QUESTION_IN, Pressed, Step, Typed, question_reply, step
from conversations.replies import Outcome, Reply
from storage import customers, invitations
from storage.db import REPEATED, Database
from storage.invitations import CheckinState, Invitation

# The invitation being finished -> when its customer may hear from Pulse again, formatted
# in their language.
NextDate = Callable[[Invitation], str]
# Sends an outcome to the customer; called after the commit, never inside the transaction.
Deliver = Callable[[Outcome], Awaitable[None]]
# Sends a question that never reached its customer; False when it could not be sent.
Ask = Callable[[Invitation, Reply], Awaitable[bool]]


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # tasks holding or waiting for the lock


class _Turns:
    """One task at a time per customer: an answer committed and its next question sent,
    or a question that never arrived asked again.

    Pulse runs as one process (Telegram refuses a second poller), so this is an exact
    record of which questions are being sent right now: a committed question not yet
    recorded as asked is in flight only while its customer's turn is held.
    """

    def __init__(self) -> None:
        self._turns: dict[int, _Turn] = {}

    def busy(self, user_id: int) -> bool:
        """Whether a task is answering this customer right now."""
        return user_id in self._turns

    @asynccontextmanager
    async def take(self, user_id: int) -> AsyncIterator[None]:
        """Holds the customer's turn, waiting for the task that holds it first."""
        turn = self._turns.setdefault(user_id, _Turn())
        turn.holders += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.holders -= 1
            if not turn.holders:
                del self._turns[user_id]


class CheckinService:
    """The check-in conversation's adapter; returns what to say after the commit."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._turns = _Turns()

    async def press(
        self, event: Pressed, *, now: int, next_date: NextDate, deliver: Deliver
    ) -> None:
        """A press on a check-in button (checked against the invitation in the database)."""
        async with self._turns.take(event.user_id):
            outcome, asked = await self._press(event, now=now, next_date=next_date)
            await deliver(outcome)
            if asked is not None:
                await self.prompted(*asked)

    async def _press(
        self, event: Pressed, *, now: int, next_date: NextDate
    ) -> tuple[Outcome, tuple[int, CheckinState] | None]:
        """Commits a press; returns what to say and the (invitation, state) it asks about."""

        def commit(raw: sqlite3.Connection) -> Step | None:
            invitation = invitations.find(raw, event.invitation_id)
            if invitation is None or invitation.user_id != event.user_id:
                return None  # someone else's (or no) invitation
            result = step(invitation, event, now=now, next_date=next_date(invitation))
            _commit(raw, invitation, result, now)
            return result

        result = await self._db.write_once(commit)
        if result is REPEATED:
            # Handled before a crash: the press is only answered; a next question that
            # was never sent is asked again at start-up or by the upkeep.
            return Outcome(), None
        if result is None:
            # Answered in the presser's own language.
            presser = await self._db.read(partial(customers.find, user_id=event.user_id))
            return Outcome(
                notice=Reply("checkin.not_yours", presser.language if presser else "en")
            ), None
        # Recorded as asked only when a question goes out: an unanswerable press leaves a
        # question that never arrived for the upkeep (or the next press) to ask.
        asked = (event.invitation_id, result.state) if result.outcome.replies else None
        return result.outcome, asked

    async def text(
        self, user_id: int, text: str, *, now: int, next_date: NextDate, deliver: Deliver
    ) -> bool:
        """Free text from a customer; False when no check-in of theirs is open to take it."""

        def commit(raw: sqlite3.Connection) -> tuple[Invitation, Step] | bool:
            invitation = invitations.latest_for_user(raw, user_id)
            if invitation is None or not invitation.is_open or invitation.expires_at <= now:
                return False
            if invitation.sent_at is None:
                return False  # recorded but not yet asked: the text is not an answer to it
            result = step(invitation, Typed(text), now=now, next_date=next_date(invitation))
            _commit(raw, invitation, result, now)
            return invitation, result

        async with self._turns.take(user_id):
            committed = await self._db.write_once(commit)
            if committed is REPEATED:
                return True  # handled before a crash; the next question is asked again
            if isinstance(committed, bool):
                return committed
            invitation, result = committed
            outcome = result.outcome
            if not outcome.replies and outcome.notice is not None:
                # Typed text has no popup to show a notice in: say it in the chat instead.
                outcome = Outcome(replies=(outcome.notice,))
            await deliver(outcome)
            if result.outcome.replies:
                await self.prompted(invitation.id, result.state)
        return True

    async def prompted(self, invitation_id: int, state: CheckinState) -> None:
        """Records that the question of `state` was sent (a later crash will not re-ask it)."""
        if state not in QUESTION_IN or state is CheckinState.ASKED_SCORE:
            return
        await self._db.write(lambda raw: invitations.mark_prompted(raw, invitation_id, state))

    async def ask_again(self, *, now: int, ask: Ask) -> int:
        """Asks the questions committed but never sent: their send failed, or the process
        stopped in between. Returns how many were sent.

        A question whose customer's turn is held is being sent right now, or its customer
        is answering: that task sees to it, and a later call picks up what it leaves.
        """
        waiting = await self._db.read(partial(invitations.unprompted, now=now))
        sent = 0
        for candidate in waiting:
            if self._turns.busy(candidate.user_id):
                continue
            async with self._turns.take(candidate.user_id):
                # Read again: the customer may have moved on since the list was read.
                invitation = await self._db.read(
                    partial(invitations.find, invitation_id=candidate.id)
                )
                if invitation is None or not invitation.unasked or invitation.expires_at <= now:
                    continue
                question = question_reply(invitation)
                if await ask(invitation, question):
                    await self.prompted(invitation.id, invitation.state)
                    sent += 1
        return sent


def _commit(raw: sqlite3.Connection, invitation: Invitation, result: Step, now: int) -> None:
    if result.delivered:
        invitations.mark_delivered(raw, invitation.id, now=now)
    if not result.changes:
        return
    invitations.save_step(
        raw,
        invitation,
        state=result.state,
        answer=result.answer,
        score=result.score,
        gave_challenge=result.gave_challenge,
        now=now,
    )
