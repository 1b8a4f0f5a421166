"""Scheduler jobs derived from the runtime settings: the check-in round, its upkeep, and
the weekly digest.

The settings live in the database (invariant 3); jobs are rebuilt from them at start-up
and whenever they change, under fixed names so they are replaced, never duplicated.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from telegram.error import TelegramError

from bot.checkins.rounds import SCHEDULED, start_round
from bot.clock import epoch
from bot.common.alarms import Alarm, raise_alarm
from bot.common.context import PulseApplication, PulseContext, Services
from bot.common.quiet_hours import parse_hhmm, quiet_until
from bot.common.replying import send_replies
from bot.digest.sending import run_due_digest
from bot.privacy.controls import apply_retention
from conversations.replies import Outcome, Reply
from storage import runtime_settings
from storage.invitations import Invitation
from storage.runtime_settings import RuntimeSettings

log = logging.getLogger(__name__)

ROUND_JOB = "checkin:round"
UPKEEP_JOB = "checkin:upkeep"
DIGEST_JOB = "digest:weekly"
UPKEEP_SECONDS = 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def trigger_for(config: RuntimeSettings, zone: ZoneInfo) -> CronTrigger:
    """The cron trigger of the check-in schedule, with weekday names, never day numbers."""
    at = parse_hhmm(config.checkin_time)
    return CronTrigger(
        day_of_week=",".join(config.checkin_days), hour=at.hour, minute=at.minute, timezone=zone
    )


def previous_occurrence(config: RuntimeSettings, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The latest scheduled check-in time at or before `now`, within the past week."""
    at = parse_hhmm(config.checkin_time)
    local = now.astimezone(zone)
    for days_back in range(8):
        day = local.date() - timedelta(days=days_back)
        if WEEKDAYS[day.weekday()] not in config.checkin_days:
            continue
        moment = datetime.combine(day, at, tzinfo=zone)
        if moment <= local:
            return moment
    return None


async def run_due_round(services: Services) -> None:
    """Runs the scheduled round for the latest occurrence if it is recent and not yet run.

    Called by the cron job and once at start-up, so a round missed while the bot was down
    runs once when it comes back (within `catch_up_hours`); the (schedule, time) key in the
    database makes a second call for the same occurrence do nothing.
    """
    config = await services.db.read(runtime_settings.load)
    if config.checkins_paused:
        return
    zone_name = config.zone_name(services.settings.timezone)
    zone = ZoneInfo(zone_name)
    now = services.clock.now()
    occurrence = previous_occurrence(config, zone, now)
    if occurrence is None or now - occurrence > timedelta(hours=config.catch_up_hours):
        return
    try:
        started = await start_round(
            services.db,
            schedule=SCHEDULED,
            scheduled_for=epoch(occurrence),
            now=now,
            zone_name=zone_name,
        )
    except Exception:
        # Its transaction rolled back: nobody was invited, and the next run (the cron job,
        # or a restart within catch_up_hours) tries this occurrence again.
        log.exception("the check-in round of %s failed", occurrence.isoformat(timespec="minutes"))
        await raise_alarm(services, Alarm.ROUND, "alarms.round", when=occurrence)
        return
    if started is not None:
        log.info("check-in round %s: %d invited", started.round.id, len(started.sample.user_ids))
        await services.sender.drain()


async def round_job(context: PulseContext) -> None:
    """The scheduled check-in round."""
    await run_due_round(context.services)


async def digest_job(context: PulseContext) -> None:
    """The weekly digest to the team."""
    await run_due_digest(context.services)


async def ask_again(services: Services) -> int:
    """Asks the check-in questions committed but never sent (a send failed with a 5xx or
    a network error, or the process stopped in between); not during quiet hours.

    At start-up and every upkeep, so a customer whose next question was lost gets it
    within a minute rather than being stuck until a restart.
    """
    config = await services.db.read(runtime_settings.load)
    zone = config.zone(services.settings.timezone)
    if quiet_until(services.clock.now(), zone, config.quiet_start, config.quiet_end):
        # Unprompted by now: it waits for the morning, or goes at once if they write.
        return 0

    async def ask(invitation: Invitation, question: Reply) -> bool:
        try:
            await send_replies(
                services.catalog,
                services.sender.bot,
                invitation.chat_id,
                Outcome(replies=(question,)),
            )
        except TelegramError as exc:
            log.warning("could not ask invitation %s again: %s", invitation.id, exc)
            return False
        return True

    asked = await services.checkin.ask_again(now=services.now(), ask=ask)
    if asked:
        log.info("%d check-in question(s) that never arrived asked again", asked)
    return asked


async def upkeep_job(context: PulseContext) -> None:
    """Expires overdue invitations, erases free text past its retention, asks questions
    that never arrived, then sends what is due (held invitations, reminders, confirmed
    "you said, we did" updates)."""
    services = context.services
    expired = await services.sender.expire()
    if expired:
        log.info("%d invitation(s) expired", expired)
    erased = await apply_retention(services.db, services.now())
    if erased:
        log.info("%d free-text answer(s) past their retention erased", erased)
    await ask_again(services)
    await services.sender.drain()
    services.tells.wake()  # in the background: a long update must not hold up the upkeep


async def schedule_jobs(app: PulseApplication) -> None:
    """(Re)creates the round and upkeep jobs from the settings in the database."""
    services = app.bot_data.services
    assert services is not None
    assert app.job_queue is not None
    config = await services.db.read(runtime_settings.load)
    for name in (ROUND_JOB, UPKEEP_JOB, DIGEST_JOB):
        for job in app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
    grace = int(timedelta(hours=config.catch_up_hours).total_seconds())
    zone = config.zone(services.settings.timezone)
    trigger = trigger_for(config, zone)
    log.info(
        "check-in rounds: %s at %s in %s%s, next at %s",
        ",".join(config.checkin_days),
        config.checkin_time,
        zone.key,
        " (paused)" if config.checkins_paused else "",
        # The scheduler runs on the wall clock, so this is when the job will fire.
        trigger.get_next_fire_time(None, datetime.now(zone)),
    )
    app.job_queue.run_custom(
        round_job,
        job_kwargs={
            "trigger": trigger,
            # A busy loop must not silently drop a round; the database key keeps it single.
            "misfire_grace_time": grace,
            "coalesce": True,
        },
        name=ROUND_JOB,
    )
    digest_at = parse_hhmm(config.digest_time)
    app.job_queue.run_custom(
        digest_job,
        job_kwargs={
            "trigger": CronTrigger(
                day_of_week=config.digest_day,
                hour=digest_at.hour,
                minute=digest_at.minute,
                timezone=zone,
            ),
            # As for rounds: late rather than never; deliveries are claimed per period.
            "misfire_grace_time": grace,
            "coalesce": True,
        },
        name=DIGEST_JOB,
    )
    app.job_queue.run_repeating(upkeep_job, interval=UPKEEP_SECONDS, first=1, name=UPKEEP_JOB)
