"""The enrollment conversation as pure transitions: invite link → consent → enrolled or not.

Each `decide_*` function takes what the database knows and the event, and returns the writes
to commit and the replies to send; `conversations.enrollment_service` runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from conversations.replies import Button, Outcome, Reply
from storage.customers import Customer, CustomerStatus, Profile
from storage.enrollments import PendingEnrollment
from storage.personal_invites import PersonalInvite
from storage.segments import Segment

LANGUAGES = ("nl", "en")
# Telegram's deep-link payload alphabet and length.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CONSENT_DATA = re.compile(r"^enroll:(yes|no):(\d{1,18})$")
STOP_DATA = re.compile(r"^stop:(yes|no)$")
LANGUAGE_DATA = re.compile(r"^lang:(nl|en)$")


def language_for(language_code: str | None) -> str:
    """Dutch for Telegram language codes starting with `nl`, otherwise English."""
    return "nl" if (language_code or "").lower().startswith("nl") else "en"


@dataclass(frozen=True)
class Situation:
    """What the database knows about the person an event comes from."""

    customer: Customer | None
    pending: PendingEnrollment | None
    segment_names: dict[int, str]
    telegram_language: str
    # The customer-base record their account is joined to, and the personal link the
    # pending consent question was opened by (as stored now), if any.
    joined_base_id: int | None = None
    pending_invite: PersonalInvite | None = None

    @property
    def language(self) -> str:
        """The stored language if there is one, else the one Telegram reports."""
        if self.customer is not None:
            return self.customer.language
        if self.pending is not None:
            return self.pending.language
        return self.telegram_language


# --- writes: what a decision asks the adapter to commit -------------------------------


@dataclass(frozen=True)
class OpenPending:
    segment_id: int
    language: str
    personal_invite_id: int | None = None


@dataclass(frozen=True)
class Enroll:
    profile: Profile
    segment_id: int
    language: str


@dataclass(frozen=True)
class ClosePending:
    pending_id: int


@dataclass(frozen=True)
class RecordRefusal:
    segment_id: int


@dataclass(frozen=True)
class SetStatus:
    status: CustomerStatus


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class JoinBase:
    """Marks the personal link used and joins the account to its record."""

    invite: PersonalInvite


Write = OpenPending | Enroll | ClosePending | RecordRefusal | SetStatus | SetLanguage | JoinBase


@dataclass(frozen=True)
class Decision:
    writes: tuple[Write, ...] = ()
    outcome: Outcome = field(default_factory=Outcome)


def consent_buttons(pending_id: int) -> tuple[tuple[Button, ...], ...]:
    """The yes/no buttons of a consent question, bound to that question."""
    return (
        (
            Button("enroll.button_yes", f"enroll:yes:{pending_id}"),
            Button("enroll.button_no", f"enroll:no:{pending_id}"),
        ),
    )


def language_buttons() -> tuple[tuple[Button, ...], ...]:
    """One button per language, each labelled in its own language."""
    return ((Button("language.button_nl", "lang:nl"), Button("language.button_en", "lang:en")),)


def decide_start(
    situation: Situation,
    *,
    code: str | None,
    code_segment: Segment | None,
    default_segment_id: int,
) -> Decision:
    """Handles /start with or without an invite code."""
    customer = situation.customer
    # A pending question's language came from an earlier /start; this one may differ.
    language = customer.language if customer else situation.telegram_language
    if code is not None and code_segment is None:
        return Decision(outcome=Outcome(replies=(Reply("enroll.invalid_code", language),)))
    if customer is not None and customer.reachable:
        name = situation.segment_names.get(customer.segment_id, "")
        reply = Reply("enroll.already_enrolled", language, {"segment": name})
        return Decision(outcome=Outcome(replies=(reply,)))
    if code_segment is not None:
        segment_id = code_segment.id
    elif customer is not None:
        segment_id = customer.segment_id
    else:
        segment_id = default_segment_id
    # The welcome with its consent buttons is built by the adapter once the pending row has
    # an id; see `welcome`.
    return Decision(writes=(OpenPending(segment_id, language),))


def decide_personal_start(
    situation: Situation, *, invite: PersonalInvite, user_id: int, now: int
) -> Decision:
    """Handles /start with a personal invite link: one use, by one account, before it expires."""
    customer = situation.customer
    language = customer.language if customer else situation.telegram_language
    reachable = customer is not None and customer.reachable

    def say(key: str) -> Decision:
        return Decision(outcome=Outcome(replies=(Reply(key, language),)))

    if invite.gone:
        return say("enroll.invalid_code")
    if user_id in (invite.joined_user_id, invite.used_by):
        if reachable:
            return say("base.link_used_by_you")
        # Their own link, after they stopped: taking part again, as /start would.
        return Decision(writes=(OpenPending(invite.segment_id, language),))
    if invite.used_at is not None or invite.joined_user_id is not None:
        return say("base.link_used")
    if now >= invite.expires_at:
        return say("base.link_expired")
    if reachable and situation.joined_base_id is not None:
        return say("base.link_someone_else")
    chosen = customer.language if customer else invite.language
    return Decision(writes=(OpenPending(invite.segment_id, chosen, invite.id),))


def welcome(pending: PendingEnrollment, *, returning: bool, cooldown_days: int) -> Outcome:
    """The explanation and consent question for a freshly opened pending enrollment."""
    key = "enroll.welcome_back" if returning else "enroll.welcome"
    params = {"cooldown_days": cooldown_days}
    reply = Reply(key, pending.language, params, consent_buttons(pending.id))
    return Outcome(replies=(reply,))


def decide_consent(
    situation: Situation, *, pending_id: int, accepted: bool, profile: Profile
) -> Decision:
    """Handles a press on a consent button."""
    pending = situation.pending
    if pending is None or pending.id != pending_id:
        stale = Reply("enroll.consent_stale", situation.language)
        return Decision(outcome=Outcome(notice=stale, close_buttons=True))
    close = ClosePending(pending.id)
    if accepted:
        enroll = Enroll(profile, pending.segment_id, pending.language)
        done = Reply("enroll.enrolled", pending.language)
        writes: tuple[Write, ...] = (close, enroll)
        if pending.personal_invite_id is not None:
            invite = situation.pending_invite
            # Another account may have consented through the same link meanwhile.
            if (
                invite is None
                or invite.gone
                or invite.used_at is not None
                or invite.joined_user_id not in (None, profile.user_id)
            ):
                used = Reply("base.link_used", pending.language)
                return Decision(writes=(close,), outcome=Outcome((used,), close_buttons=True))
            writes = (close, enroll, JoinBase(invite))
        return Decision(
            writes=writes,
            outcome=Outcome(replies=(done,), close_buttons=True),
        )
    refused = Reply("enroll.refused", pending.language)
    return Decision(
        writes=(close, RecordRefusal(pending.segment_id)),
        outcome=Outcome(replies=(refused,), close_buttons=True),
    )


def decide_stop_request(situation: Situation) -> Decision:
    """Handles /stop: asks to confirm, or says there is nothing to stop."""
    customer = situation.customer
    if situation.pending is not None and (customer is None or not customer.reachable):
        # Not enrolled yet: withdrawing before consent needs no confirmation.
        reply = Reply("stop.pending_withdrawn", situation.pending.language)
        return Decision(writes=(ClosePending(situation.pending.id),), outcome=Outcome((reply,)))
    if customer is None or not customer.reachable:
        return Decision(outcome=Outcome(replies=(Reply("stop.not_enrolled", situation.language),)))
    buttons = ((Button("stop.button_yes", "stop:yes"), Button("stop.button_no", "stop:no")),)
    reply = Reply("stop.confirm", customer.language, buttons=buttons)
    return Decision(outcome=Outcome(replies=(reply,)))


def decide_stop_answer(situation: Situation, *, confirmed: bool) -> Decision:
    """Handles a press on a /stop confirmation button."""
    customer = situation.customer
    if customer is None or not customer.reachable:
        notice = Reply("stop.already", situation.language)
        return Decision(outcome=Outcome(notice=notice, close_buttons=True))
    if not confirmed:
        reply = Reply("stop.cancelled", customer.language)
        return Decision(outcome=Outcome(replies=(reply,), close_buttons=True))
    reply = Reply("stop.done", customer.language)
    return Decision(
        writes=(SetStatus(CustomerStatus.STOPPED),),
        outcome=Outcome(replies=(reply,), close_buttons=True),
    )


def decide_language(situation: Situation, *, choice: str | None) -> Decision:
    """Handles /language [nl|en] and a press on a language button."""
    customer = situation.customer
    pending = situation.pending
    current = situation.language
    if choice is None:
        reply = Reply("language.choose", current, buttons=language_buttons())
        return Decision(outcome=Outcome(replies=(reply,)))
    if choice not in LANGUAGES:
        return Decision(outcome=Outcome(replies=(Reply("language.usage", current),)))
    reply = Reply("language.changed", choice)
    if customer is None and pending is None:
        # Nothing is stored about this person, so there is nothing to change: say so in the
        # language they picked.
        reply = Reply("language.not_enrolled", choice)
        return Decision(outcome=Outcome(replies=(reply,), close_buttons=True))
    return Decision(
        writes=(SetLanguage(choice),),
        outcome=Outcome(replies=(reply,), close_buttons=True),
    )


def decide_blocked(situation: Situation) -> Decision:
    """Handles Telegram telling us the user blocked the bot."""
    customer = situation.customer
    writes: list[Write] = []
    if situation.pending is not None:
        writes.append(ClosePending(situation.pending.id))
    if customer is not None and customer.status is not CustomerStatus.BLOCKED:
        writes.append(SetStatus(CustomerStatus.BLOCKED))
    return Decision(writes=tuple(writes))
