"""Alerts to the team: a customer who scores at or below `alert_score`, or asks to be
contacted, opens a follow-up thread. The thread is recorded before its alert goes to every
staff member and admin (held in the database through staff quiet hours, then sent by the
upkeep), and the alert is edited in place as the rest of the check-in comes in."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bot.catalog import Catalog, Html
from bot.clock import epoch
from bot.common import segment_names
from bot.common.context import PulseApplication, PulseContext, Services
from bot.common.display import run_text
from bot.common.parsing import OFF_WORDS, WrongUsage, parse_quiet, parse_whole
from bot.common.quiet_hours import quiet_until
from conversations.checkin import FACES
from storage import digests, followup_alerts
from storage import followups as threads
from storage.followups import Facts, Followup
from storage.runtime_settings import RuntimeSettings

log = logging.getLogger(__name__)

UPKEEP_JOB = "followups:upkeep"
UPKEEP_SECONDS = 60
# Free text longer than this is cut in alerts and lists (the full text stays stored).
QUOTE_CHARS = 500


# --- the settings -----------------------------------------------------------------------


def parse_alert_score(args: list[str]) -> int | None:
    """`/alerts <1-5>`: the score at or below which the team is alerted; None for `off`
    (only customers who ask to be contacted then alert the team)."""
    if len(args) == 1 and args[0].lower() in OFF_WORDS:
        return None
    return parse_whole(args, low=1, high=5)


def parse_alert_quiet(args: list[str]) -> str | None:
    """`/alerts quiet <HH:MM-HH:MM>` as stored ("22:00-08:00"), or None for `off`."""
    if not args:
        raise WrongUsage(args)
    window = parse_quiet(args)
    return None if window is None else f"{window[0]}-{window[1]}"


def quiet_window(config: RuntimeSettings) -> tuple[str | None, str | None]:
    """The staff quiet hours as (start, end), or (None, None) when alerts go at any hour."""
    if config.alert_quiet is None:
        return None, None
    start, _, end = config.alert_quiet.partition("-")
    return start, end


def alert_reason(config: RuntimeSettings, score: int | None, contact: str | None) -> str | None:
    """Why this check-in alerts the team ("score" or "contact"), or None."""
    if score is not None and config.alert_score is not None and score <= config.alert_score:
        return "score"
    if contact == "yes":
        return "contact"
    return None


# --- what the alert says ----------------------------------------------------------------


def quote(text: str) -> str:
    """Free text as alerts and lists quote it: cut at QUOTE_CHARS."""
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def customer_label(catalog: Catalog, language: str, facts: Facts) -> Html:
    """ "Bram de Vries (@bram) · retail", and " · id C-1001" for a customer of the base."""
    name = " ".join(part for part in (facts.first_name, facts.last_name) if part)
    handle = catalog.text(language, "followups.handle", username=facts.username)
    label = catalog.text(
        language,
        "followups.customer",
        name=name,
        handle=handle if facts.username else Html(""),
        segment=segment_names.shown(catalog, language, facts.segment),
    )
    if facts.external_id is None:
        return label
    return Html(label + catalog.text(language, "base.external_id", id=facts.external_id))


def said_lines(catalog: Catalog, language: str, facts: Facts) -> list[Html]:
    """What the customer said in the check-in, one line per answer given."""
    text = catalog.text
    lines: list[Html] = []
    if facts.score is not None:
        lines.append(
            text(language, "followups.score", face=FACES.get(facts.score, ""), score=facts.score)
        )
    answers = facts.answers
    if answers.get("challenge"):
        lines.append(text(language, "followups.challenge", text=quote(answers["challenge"] or "")))
    if answers.get("improvement"):
        improvement = quote(answers["improvement"] or "")
        lines.append(text(language, "followups.improvement", text=improvement))
    verdict = answers.get("hypothesis")
    if verdict in ("yes", "partly", "no"):
        probe = (facts.probe_nl if language == "nl" else facts.probe_en) or ""
        lines.append(
            text(
                language,
                "followups.probe",
                probe=quote(probe),
                verdict=text(language, f"followups.verdict.{verdict}"),
            )
        )
    if answers.get("why"):
        lines.append(text(language, "followups.why", text=quote(answers["why"] or "")))
    if facts.wants_contact:
        lines.append(text(language, "followups.wants_contact"))
    return lines


def alert_text(
    catalog: Catalog, language: str, followup: Followup, facts: Facts, zone: ZoneInfo
) -> Html:
    """The alert as a team member reads it."""
    moment = datetime.fromtimestamp(facts.checked_in_at, zone)
    lines = [
        catalog.text(
            language,
            "followups.alert_title",
            id=followup.id,
            customer=customer_label(catalog, language, facts),
        ),
        *said_lines(catalog, language, facts),
        catalog.text(language, "followups.checked_in", when=run_text(catalog, language, moment)),
    ]
    if facts.still_open:
        lines.append(catalog.text(language, "followups.still_answering"))
    return Html("\n".join(lines))


def reply_markup(catalog: Catalog, language: str, followup_id: int) -> InlineKeyboardMarkup:
    """The alert's one button: Reply."""
    label = catalog.text(language, "followups.button_reply")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"fu:{followup_id}:reply")]]
    )


def thread_markup(catalog: Catalog, language: str, followup_id: int) -> InlineKeyboardMarkup:
    """Reply and Mark done, under a customer's answer and in /followups."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    catalog.text(language, "followups.button_reply"),
                    callback_data=f"fu:{followup_id}:reply",
                ),
                InlineKeyboardButton(
                    catalog.text(language, "followups.button_done"),
                    callback_data=f"fu:{followup_id}:done",
                ),
            ]
        ]
    )


# --- raising and sending ----------------------------------------------------------------


async def after_answer(
    services: Services, config: RuntimeSettings, user_id: int, invitation_id: int | None
) -> None:
    """After a check-in answer committed: opens the thread and alerts the team when the
    answers call for it (by `config`, the update's settings), or brings the alerts already
    sent up to date.

    Works from what the database holds, so a replayed update or a later answer in the same
    check-in never opens a second thread or sends a second alert.
    """
    now = services.now()
    state = await services.db.read(
        partial(threads.alert_state, user_id=user_id, invitation_id=invitation_id)
    )
    if state is None:
        return
    zone = config.zone(services.settings.timezone)
    followup = state.followup
    if followup is None:
        reason = alert_reason(config, state.score, state.contact)
        if reason is None:
            return
        start, end = quiet_window(config)
        held_until = quiet_until(services.clock.now(), zone, start, end)
        opened = await services.db.write(
            partial(
                threads.create,
                invitation_id=state.invitation_id,
                user_id=user_id,
                reason=reason,
                now=now,
                alert_after=epoch(held_until) if held_until else now,
            )
        )
        if not opened:
            return  # opened by an earlier handling of this answer, which sees to its alert
        followup = await services.db.read(
            partial(threads.find_for_invitation, invitation_id=state.invitation_id)
        )
        if followup is None:
            return  # forgotten (/forget) in the meantime
        if held_until is not None:
            log.info("alert of follow-up %s held until %s", followup.id, held_until.isoformat())
            return
    # The sends run beside the update: a burst of unhappy customers must not make each
    # wait for the staff chats' one-message-a-second limit. The thread is committed, so
    # an alert a crash cuts off is sent by the upkeep.
    if followup.alerted_at is None:
        if followup.alert_after <= now:
            services.spawn(_send_quietly(services, followup, zone))
        return
    if state.answers > followup.shown_answers:
        services.spawn(_refresh(services, followup, state.answers, zone))


async def _send_quietly(services: Services, followup: Followup, zone: ZoneInfo) -> None:
    await send_alert(services, followup, zone)


async def send_alert(services: Services, followup: Followup, zone: ZoneInfo) -> int:
    """The thread's alert to every staff member and admin who has not had it, its times in
    `zone`; each delivery is claimed before its send. Returns how many were sent."""
    now = services.now()

    # Read first, then one short write: the claims, and how many answers the text shows.
    def gather(conn: sqlite3.Connection) -> tuple[list[digests.Recipient], Facts]:
        return digests.recipients(conn, services.settings.admin_ids), threads.facts(conn, followup)

    recipients, facts = await services.db.read(gather)

    def claim(raw: sqlite3.Connection) -> set[int]:
        claimed = followup_alerts.claim_alerts(
            raw, followup.id, [r.user_id for r in recipients], now
        )
        threads.show_answers(raw, followup.id, len(facts.answers))
        return set(claimed)

    claimed = await services.db.write(claim)
    bot = services.sender.bot
    results: list[tuple[int, int | None, str | None]] = []
    for recipient in recipients:
        if recipient.user_id not in claimed:
            continue
        language = recipient.language
        text = alert_text(services.catalog, language, followup, facts, zone)
        markup = reply_markup(services.catalog, language, followup.id)
        try:
            sent: Message = await bot.send_message(recipient.user_id, text, reply_markup=markup)
        except TelegramError as exc:
            # Forbidden: a team member who never started the bot, or blocked it.
            log.warning("alert %s to %s failed: %s", followup.id, recipient.user_id, exc.message)
            results.append((recipient.user_id, None, exc.message))
        else:
            results.append((recipient.user_id, sent.message_id, None))
    if results or not recipients:
        # Nothing claimed: another task is sending it, or a process died doing so; the
        # upkeep claims those again once they are stale.
        await services.db.write(
            partial(
                followup_alerts.finish_alerts,
                followup_id=followup.id,
                results=results,
                now=services.now(),
            )
        )
    delivered = sum(1 for _, _, error in results if error is None)
    log.info("alert of follow-up %s sent to %d of %d", followup.id, delivered, len(results))
    return delivered


async def _refresh(services: Services, followup: Followup, answers: int, zone: ZoneInfo) -> None:
    """Edits the alerts already sent to show the answers given since."""
    if not await services.db.write(
        partial(threads.show_answers, followup_id=followup.id, answers=answers)
    ):
        return

    def gather(
        conn: sqlite3.Connection,
    ) -> tuple[Facts, list[tuple[int, int]], list[digests.Recipient]]:
        return (
            threads.facts(conn, followup),
            followup_alerts.sent_alerts(conn, followup.id),
            digests.recipients(conn, services.settings.admin_ids),
        )

    facts, sent, recipients = await services.db.read(gather)
    languages = {r.user_id: r.language for r in recipients}
    bot = services.sender.bot
    for user_id, message_id in sent:
        language = languages.get(user_id, "en")
        text = alert_text(services.catalog, language, followup, facts, zone)
        try:
            await bot.edit_message_text(
                text,
                chat_id=user_id,
                message_id=message_id,
                reply_markup=reply_markup(services.catalog, language, followup.id),
            )
        except TelegramError as exc:
            # "Not modified", or a team member who deleted the chat: the thread is intact.
            log.info("alert %s for %s not updated: %s", followup.id, user_id, exc.message)


async def release_held(services: Services) -> int:
    """Sends the alerts whose staff quiet hours are over (and any whose send was
    interrupted before it started); returns how many threads were alerted."""
    due = await services.db.read(partial(threads.held, now=services.now()))
    if not due:
        return 0
    zone = await services.zone()
    for followup in due:
        await send_alert(services, followup, zone)
    return len(due)


async def upkeep_job(context: PulseContext) -> None:
    """Every minute: the alerts held for staff quiet hours that may go out now."""
    released = await release_held(context.services)
    if released:
        log.info("%d held alert(s) sent", released)


def schedule_upkeep(app: PulseApplication) -> None:
    """(Re)creates the alert upkeep job under its fixed name."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(UPKEEP_JOB):
        job.schedule_removal()
    app.job_queue.run_repeating(upkeep_job, interval=UPKEEP_SECONDS, first=5, name=UPKEEP_JOB)
