"""Runs the check-in transitions: each answer and the new state commit in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiosqlite

from conversations.checkin import QUESTION_OF_STATE, Pressed, Step, Typed, question_reply, step
from conversations.replies import Outcome, Reply
from storage import customers, inbox, invitations
from storage.db import Database
from storage.invitations import CheckinState, Invitation

NextDate = Callable[[str], str]  # language -> when the customer may hear from Pulse again
# Sends an outcome to the customer; called after the commit, never inside the transaction.
Deliver = Callable[[Outcome], Awaitable[None]]


class CheckinService:
    """The check-in conversation's adapter; returns what to say after the commit."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def press(
        self, event: Pressed, *, now: int, next_date: NextDate, deliver: Deliver
    ) -> None:
        """A press on a check-in button (checked against the invitation in the database)."""
        async with self._db.transaction() as conn:
            if not await inbox.claim_effect(conn, now):
                # Handled before a crash; the next question is asked again at start-up.
                await deliver(Outcome())
                return
            invitation = await invitations.find(conn, event.invitation_id)
            if invitation is None or invitation.user_id != event.user_id:
                # Someone else's (or no) invitation: answer in the presser's own language.
                presser = await customers.find(conn, event.user_id)
                notice = Reply("checkin.not_yours", presser.language if presser else "en")
                result = None
            else:
                result = step(invitation, event, now=now, next_date=next_date(invitation.language))
                await _commit(conn, invitation, result, now)
        if result is None or invitation is None:
            await deliver(Outcome(notice=notice))
            return
        await deliver(result.outcome)
        await self.prompted(invitation.id, result.state)

    async def text(
        self, user_id: int, text: str, *, now: int, next_date: NextDate, deliver: Deliver
    ) -> bool:
        """Free text from a customer; False when no check-in of theirs is open to take it."""
        async with self._db.transaction() as conn:
            if not await inbox.claim_effect(conn, now):
                return True  # handled before a crash; the next question is asked again
            invitation = await invitations.latest_for_user(conn, user_id)
            if invitation is None or not invitation.is_open or invitation.expires_at <= now:
                return False
            if invitation.sent_at is None:
                return False  # recorded but not yet asked: the text is not an answer to it
            result = step(
                invitation, Typed(text), now=now, next_date=next_date(invitation.language)
            )
            await _commit(conn, invitation, result, now)
        outcome = result.outcome
        if not outcome.replies and outcome.notice is not None:
            # Typed text has no popup to show a notice in: say it in the chat instead.
            outcome = Outcome(replies=(outcome.notice,))
        await deliver(outcome)
        await self.prompted(invitation.id, result.state)
        return True

    async def prompted(self, invitation_id: int, state: CheckinState) -> None:
        """Records that the question of `state` was sent (a later crash will not re-ask it)."""
        if state not in QUESTION_OF_STATE or state is CheckinState.ASKED_SCORE:
            return
        async with self._db.transaction() as conn:
            await invitations.mark_prompted(conn, invitation_id, state)

    async def unasked(self, *, now: int) -> list[tuple[Invitation, Reply]]:
        """Questions committed but never sent (the process died in between), to ask again."""
        async with self._db.read() as conn:
            waiting = await invitations.unprompted(conn, now)
        return [(i, question_reply(i.id, i.language, i.state)) for i in waiting]


async def _commit(
    conn: aiosqlite.Connection, invitation: Invitation, result: Step, now: int
) -> None:
    if not result.changes:
        return
    await invitations.save_step(
        conn,
        invitation,
        state=result.state,
        answer=result.answer,
        score=result.score,
        gave_challenge=result.gave_challenge,
        now=now,
    )
