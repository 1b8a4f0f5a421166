"""Sending the digest: the scheduled week to the whole team once per person, on demand to
one reader, and a stored copy re-read. Figures are computed once per send, rendered per
language, stored, and each delivery claimed in the database before it goes out."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import InputFile
from telegram.error import TelegramError

from bot.catalog import Catalog
from bot.clock import epoch
from bot.common.alarms import Alarm, raise_alarm
from bot.common.context import PulseBot, Services
from bot.digest import assembly, chart, figures, render
from bot.digest.figures import DigestFigures, WeekFigures
from bot.digest.period import Period, latest_occurrence, rolling_period, weeks_before
from bot.sending.outbound import BULK
from storage import digests, runtime_settings, vectors
from storage.digests import DeliveryStatus, Recipient, StoredDigest

log = logging.getLogger(__name__)


@dataclass
class DigestReport:
    """How a send to the team went."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)


def chart_png(
    catalog: Catalog, language: str, weeks: tuple[WeekFigures, ...], zone: ZoneInfo
) -> bytes:
    """The trend chart with its labels in the reader's language."""
    labels = chart.ChartLabels(
        title=catalog.text(language, "digest.chart_title"),
        mean=catalog.text(language, "digest.chart_mean"),
        answers=catalog.text(language, "digest.chart_answers"),
        months=tuple(catalog.months(language)),
    )
    points = [
        chart.ChartWeek(
            start=datetime.fromtimestamp(week.start, zone).date(),
            answers=week.answered,
            mean=week.estimate.mean if week.estimate else None,
            low=week.estimate.low if week.estimate else None,
            high=week.estimate.high if week.estimate else None,
        )
        for week in weeks
    ]
    return chart.render_chart(points, labels)


@dataclass(frozen=True)
class Rendered:
    """A digest ready to send in one language: its stored text and its chart."""

    stored: StoredDigest | None
    parts: list[str]
    png: bytes


async def _render(
    services: Services, result: DigestFigures, language: str, zone: ZoneInfo
) -> tuple[list[str], bytes]:
    parts = render.render(services.catalog, language, result, zone)
    # Drawing takes a fraction of a second of CPU: off the event loop, which keeps
    # answering customers meanwhile (the chart code keeps no global state).
    png = await asyncio.to_thread(chart_png, services.catalog, language, result.weeks, zone)
    return parts, png


async def _send_to(
    services: Services, chat_id: int, parts: list[str], png: bytes, caption: str
) -> None:
    """The message parts, then the chart; bulk priority, so conversations go first."""
    bot: PulseBot = services.sender.bot
    for part in parts:
        await bot.send_message(chat_id, part, rate_limit_args=BULK)
    await bot.send_photo(
        chat_id, InputFile(png, filename="pulse.png"), caption=caption, rate_limit_args=BULK
    )


async def send_to_team(
    services: Services, period: Period, zone: ZoneInfo, *, weekly: bool = False
) -> DigestReport:
    """The period's digest to every admin and staff member who has not had it yet
    (`weekly`: the scheduled one, whose themes are recorded for the next weeks' trends).

    Each delivery is claimed before its send: a second run for the same period (a
    duplicate trigger, the catch-up after a restart) sends nothing twice. A delivery
    interrupted mid-send stays claimed and is not sent again (it may have arrived).
    """
    report = DigestReport()

    def look(conn: sqlite3.Connection) -> tuple[list[Recipient], dict[int, DeliveryStatus]]:
        recipients = digests.recipients(conn, services.settings.admin_ids)
        return recipients, digests.deliveries(conn, epoch(period.start))

    recipients, claimed = await services.db.read(look)
    waiting = [r for r in recipients if r.user_id not in claimed]
    report.already = [r.user_id for r in recipients if r.user_id in claimed]
    if not waiting:
        return report
    result = await assembly.collect(services.db, period, zone, services.vectors)
    if weekly:
        # Each theme's identity and count for this week: next week's trends compare to it.
        for question, found in figures.week_themes(result).items():
            await services.db.write(
                partial(
                    vectors.record_week,
                    question=question,
                    model=services.vectors.embedder.model,
                    week_start=epoch(period.start),
                    found=found,
                    now=services.now(),
                )
            )
    rendered: dict[str, Rendered] = {}
    for recipient in waiting:
        if recipient.language not in rendered:
            rendered[recipient.language] = await _store(services, result, period, recipient, zone)
        await _deliver(services, period, recipient, rendered[recipient.language], report)
    return report


async def _store(
    services: Services,
    result: DigestFigures,
    period: Period,
    recipient: Recipient,
    zone: ZoneInfo,
) -> Rendered:
    parts, png = await _render(services, result, recipient.language, zone)
    stored = await services.db.write(
        partial(
            digests.put,
            period_start=epoch(period.start),
            period_end=epoch(period.end),
            language=recipient.language,
            figures=result.to_json(),
            parts=parts,
            now=services.now(),
        )
    )
    # A copy stored by an earlier run is what the others got: send that one.
    return Rendered(stored, stored.parts, png)


async def _deliver(
    services: Services,
    period: Period,
    recipient: Recipient,
    rendered: Rendered,
    report: DigestReport,
) -> None:
    assert rendered.stored is not None
    start = epoch(period.start)
    claimed = await services.db.write(
        partial(
            digests.claim,
            period_start=start,
            user_id=recipient.user_id,
            digest_id=rendered.stored.id,
            now=services.now(),
        )
    )
    if not claimed:
        report.already.append(recipient.user_id)
        return
    caption = services.catalog.text(recipient.language, "digest.chart_caption")
    status, error = DeliveryStatus.SENT, None
    try:
        await _send_to(services, recipient.user_id, rendered.parts, rendered.png, caption)
    except TelegramError as exc:
        # Forbidden: they never started the bot or blocked it; the rest are logged.
        status, error = DeliveryStatus.FAILED, exc.message
        log.warning("digest to %s failed: %s", recipient.user_id, exc.message)
    await services.db.write(
        partial(
            digests.finish,
            period_start=start,
            user_id=recipient.user_id,
            status=status,
            now=services.now(),
            error=error,
        )
    )
    (report.sent if status is DeliveryStatus.SENT else report.failed).append(recipient.user_id)


async def run_due_digest(services: Services) -> DigestReport | None:
    """The scheduled digest of the latest occurrence, if it is recent and not yet sent.

    Called by the weekly job and at start-up, so a digest missed while the bot was down
    goes out once when it comes back (within `catch_up_hours`).
    """
    config = await services.db.read(runtime_settings.load)
    zone = config.zone(services.settings.timezone)
    now = services.clock.now()
    occurrence = latest_occurrence(config.digest_day, config.digest_time, zone, now)
    if now - occurrence > timedelta(hours=config.catch_up_hours):
        return None
    period = Period(weeks_before(occurrence, 1, zone), occurrence)
    try:
        report = await send_to_team(services, period, zone, weekly=True)
    except Exception:
        # Deliveries not yet claimed go out at the next run (a restart within
        # catch_up_hours); claimed ones stay claimed, as for an interrupted send.
        log.exception("the digest of %s failed", period.end.isoformat(timespec="minutes"))
        await raise_alarm(services, Alarm.DIGEST, "alarms.digest_failed", when=occurrence)
        return None
    log.info(
        "digest of %s: sent to %d, failed for %d, %d had it already",
        period.end.isoformat(timespec="minutes"),
        len(report.sent),
        len(report.failed),
        len(report.already),
    )
    if report.failed:
        total = len(report.sent) + len(report.failed)
        await raise_alarm(
            services,
            Alarm.DIGEST,
            "alarms.digest_undelivered",
            when=occurrence,
            sent=len(report.sent),
            total=total,
        )
    return report


async def send_now(services: Services, zone: ZoneInfo) -> DigestReport:
    """/digest_now: the last seven days to the whole team at once."""
    return await send_to_team(services, rolling_period(services.clock.now(), zone), zone)


async def send_view(services: Services, chat_id: int, language: str, zone: ZoneInfo) -> None:
    """/digest: the last seven days to one reader, computed now and not stored."""
    result = await assembly.collect(
        services.db, rolling_period(services.clock.now(), zone), zone, services.vectors
    )
    parts, png = await _render(services, result, language, zone)
    caption = services.catalog.text(language, "digest.chart_caption")
    await _send_to(services, chat_id, parts, png, caption)


async def send_earlier(
    services: Services, chat_id: int, language: str, zone: ZoneInfo, back: int
) -> None:
    """/digest N: the weekly digest N weeks back (1: the latest), as stored when it went
    out in this language, else computed from the answers."""
    config = await services.db.read(runtime_settings.load)
    now = services.clock.now()
    end = weeks_before(
        latest_occurrence(config.digest_day, config.digest_time, zone, now), back - 1, zone
    )
    period = Period(weeks_before(end, 1, zone), end)
    stored = await services.db.read(
        partial(
            digests.find,
            period_start=epoch(period.start),
            period_end=epoch(period.end),
            language=language,
        )
    )
    caption = services.catalog.text(language, "digest.chart_caption")
    if stored is None:
        result = await assembly.collect(services.db, period, zone, services.vectors)
        parts, png = await _render(services, result, language, zone)
    else:
        note = services.catalog.text(
            language, "digest.earlier_copy", date=services.catalog.date(language, period.end)
        )
        parts = [note, *stored.parts]
        png = await asyncio.to_thread(
            chart_png, services.catalog, language, figures.weeks_from_json(stored.figures), zone
        )
    await _send_to(services, chat_id, parts, png, caption)
