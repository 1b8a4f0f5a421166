"""Runs the enrollment transitions: load the situation, decide, commit, all in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial

from conversations import enrollment
from conversations.enrollment import Decision, Situation
from conversations.replies import Outcome
from storage import (
    customer_base,
    customers,
    enrollments,
    invitations,
    personal_invites,
    runtime_settings,
    segments,
)
from storage.customers import Profile
from storage.db import REPEATED, Database
from storage.invitations import CheckinState


class EnrollmentService:
    """The enrollment conversation's adapter; returns what to say after the commit.

    `telegram_language` is the language Telegram reports for the sender, used only when
    nothing is stored about them yet.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(
        self,
        profile: Profile,
        *,
        code: str | None,
        telegram_language: str,
        now: int,
    ) -> Outcome:
        """/start, with the deep-link code if there was one."""

        def answer_start(conn: sqlite3.Connection) -> Outcome:
            situation = _situation(conn, profile.user_id, telegram_language)
            code_segment = personal = None
            if code is not None and enrollment.CODE_PATTERN.match(code):
                personal = personal_invites.find_invite(conn, code)
                if personal is None:
                    code_segment = segments.find_by_code(conn, code)
            if personal is not None:
                decision = enrollment.decide_personal_start(
                    situation, invite=personal, user_id=profile.user_id, now=now
                )
            else:
                decision = enrollment.decide_start(
                    situation,
                    code=code,
                    code_segment=code_segment,
                    default_segment_id=segments.DEFAULT_SEGMENT_ID,
                )
            _apply(conn, decision, profile, now)
            if not any(isinstance(w, enrollment.OpenPending) for w in decision.writes):
                return decision.outcome
            pending = enrollments.find_for_user(conn, profile.user_id)
            assert pending is not None
            returning = situation.customer is not None
            # The cool-down admins set now: the welcome promises what the rounds will keep.
            config = runtime_settings.load(conn)
            return enrollment.welcome(
                pending, returning=returning, cooldown_days=config.cooldown_days
            )

        said = await self._db.write_once(answer_start)
        return Outcome() if said is REPEATED else said  # REPEATED: said and done already

    async def consent(
        self,
        profile: Profile,
        *,
        pending_id: int,
        accepted: bool,
        telegram_language: str,
        now: int,
    ) -> Outcome:
        """A press on a consent button."""
        return await self._run(
            profile,
            telegram_language,
            now,
            lambda s: enrollment.decide_consent(
                s, pending_id=pending_id, accepted=accepted, profile=profile
            ),
        )

    async def stop_request(self, profile: Profile, *, telegram_language: str, now: int) -> Outcome:
        """/stop."""
        return await self._run(profile, telegram_language, now, enrollment.decide_stop_request)

    async def stop_answer(
        self, profile: Profile, *, confirmed: bool, telegram_language: str, now: int
    ) -> Outcome:
        """A press on a /stop confirmation button."""
        return await self._run(
            profile,
            telegram_language,
            now,
            lambda s: enrollment.decide_stop_answer(s, confirmed=confirmed),
        )

    async def language(
        self, profile: Profile, *, choice: str | None, telegram_language: str, now: int
    ) -> Outcome:
        """/language [nl|en] or a press on a language button."""
        return await self._run(
            profile,
            telegram_language,
            now,
            lambda s: enrollment.decide_language(s, choice=choice),
        )

    async def blocked(self, profile: Profile, *, now: int) -> None:
        """Telegram reported that the user blocked the bot."""
        await self._run(profile, "en", now, enrollment.decide_blocked)

    async def language_of(self, user_id: int, telegram_language: str) -> str:
        """The language to speak to this user: stored if known, else Telegram's."""
        situation = await self._db.read(
            partial(_situation, user_id=user_id, telegram_language=telegram_language)
        )
        return situation.language

    async def taking_part(self, user_id: int) -> bool:
        """Whether this user is an enrolled customer Pulse may check in with."""
        customer = await self._db.read(partial(customers.find, user_id=user_id))
        return customer is not None and customer.reachable

    async def _run(
        self,
        profile: Profile,
        telegram_language: str,
        now: int,
        decide: Callable[[Situation], Decision],
    ) -> Outcome:
        """Loads the situation, decides and commits in one transaction."""

        def decide_and_commit(conn: sqlite3.Connection) -> Decision:
            situation = _situation(conn, profile.user_id, telegram_language)
            decision = decide(situation)
            _apply(conn, decision, profile, now)
            return decision

        decision = await self._db.write_once(decide_and_commit)
        if decision is REPEATED:
            return Outcome()  # handled before a crash: said and done already
        return decision.outcome


def _situation(conn: sqlite3.Connection, user_id: int, telegram_language: str) -> Situation:
    customer = customers.find(conn, user_id)
    pending = enrollments.find_for_user(conn, user_id)
    names: dict[int, str] = {}
    if customer is not None:
        names[customer.segment_id] = segments.get(conn, customer.segment_id).name
    joined = customer_base.find_for_user(conn, user_id)
    invite = None
    if pending is not None and pending.personal_invite_id is not None:
        invite = personal_invites.get_invite(conn, pending.personal_invite_id)
    return Situation(
        customer, pending, names, telegram_language, joined.id if joined else None, invite
    )


def _apply(conn: sqlite3.Connection, decision: Decision, profile: Profile, now: int) -> None:
    for write in decision.writes:
        match write:
            case enrollment.OpenPending(
                segment_id=segment_id, language=language, personal_invite_id=invite_id
            ):
                enrollments.open_pending(
                    conn,
                    user_id=profile.user_id,
                    chat_id=profile.chat_id,
                    segment_id=segment_id,
                    language=language,
                    now=now,
                    personal_invite_id=invite_id,
                )
            case enrollment.JoinBase(invite=invite):
                personal_invites.use_invite(conn, invite, profile.user_id, now)
            case enrollment.Enroll(profile=who, segment_id=segment_id, language=language):
                customers.enroll(conn, who, language=language, segment_id=segment_id, now=now)
            case enrollment.ClosePending(pending_id=pending_id):
                enrollments.close(conn, pending_id)
            case enrollment.RecordRefusal(segment_id=segment_id):
                enrollments.record_refusal(
                    conn, user_id=profile.user_id, segment_id=segment_id, now=now
                )
            case enrollment.SetStatus(status=status):
                customers.set_status(conn, profile.user_id, status, now=now)
                # A stopped or blocked customer's open check-in ends with them.
                invitations.close_open_for_user(conn, profile.user_id, CheckinState.STOPPED, now)
            case enrollment.SetLanguage(language=language):
                if customers.find(conn, profile.user_id) is not None:
                    customers.set_language(conn, profile.user_id, language, now=now)
                pending = enrollments.find_for_user(conn, profile.user_id)
                if pending is not None:
                    enrollments.set_language(conn, pending.id, language)
