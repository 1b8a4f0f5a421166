"""/checkin_now [segment]: an admin starts a check-in round at once."""

from __future__ import annotations

from functools import partial

from telegram import Update

from bot.catalog import Html
from bot.checkins.rounds import AlreadyHandled, RoundStarted, start_round
from bot.checkins.sampling import SkipReason
from bot.clock import epoch
from bot.common import segment_names
from bot.common.context import PulseContext
from bot.common.excerpts import echo
from bot.common.profiles import sender
from storage import segments


async def checkin_now_command(update: Update, context: PulseContext) -> None:
    """Starts a round with the current settings and reports who was invited and who skipped."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    segment_id = None
    segment_note = ""
    if context.args:
        name = " ".join(context.args)
        meant = segment_names.meant(catalog, name)
        segment = await services.db.read(partial(segments.find_by_name, name=meant))
        if segment is None:
            text = catalog.text(language, "rounds.unknown_segment", segment=echo(name))
            await context.bot.send_message(profile.chat_id, text)
            return
        segment_id = segment.id
        segment_note = catalog.text(
            language,
            "rounds.for_segment",
            segment=segment_names.shown(catalog, language, segment.name),
        )
    now = services.clock.now()
    try:
        started = await start_round(
            services.db,
            schedule=f"manual:{profile.user_id}",
            scheduled_for=epoch(now),
            now=now,
            # The configured zone; start_round puts an admin's /timezone over it.
            zone_name=services.settings.timezone,
            started_by=profile.user_id,
            segment_id=segment_id,
        )
    except AlreadyHandled:
        await context.bot.send_message(
            profile.chat_id, catalog.text(language, "admin.already_done")
        )
        return
    if started is None:
        await context.bot.send_message(
            profile.chat_id, catalog.text(language, "rounds.already_running")
        )
        return
    await context.bot.send_message(
        profile.chat_id, report(context, language, started, segment_note)
    )
    if started.sample.user_ids:
        services.sender.wake()


def report(context: PulseContext, language: str, started: RoundStarted, segment_note: str) -> str:
    """The admin's summary: invited per segment, and who was skipped and why."""
    catalog = context.services.catalog
    sample = started.sample
    skipped = {
        "cooldown": sample.skipped[SkipReason.COOLDOWN],
        "paused": sample.skipped[SkipReason.PAUSED],
        "open": sample.skipped[SkipReason.OPEN_INVITATION],
    }
    if not sample.strata:
        # Nobody to skip either: say why there is nobody at all.
        if started.gone == 0:
            return catalog.text(language, "rounds.nobody_enrolled", segment=segment_note)
        return catalog.text(
            language, "rounds.nobody_gone", segment=segment_note, gone=started.gone
        )
    if not sample.user_ids:
        return catalog.text(language, "rounds.nobody", segment=segment_note, **skipped)
    lines = []
    if any(s.rate is not None for s in sample.strata):
        lines.append(catalog.text(language, "rounds.by_answers"))
    for s in sample.strata:
        params: dict[str, object] = {
            "segment": segment_names.shown(
                catalog, language, started.segment_names.get(s.segment_id, str(s.segment_id))
            ),
            "invited": s.invited,
            "eligible": s.eligible,
            "population": catalog.text(language, "rounds.customers", n=s.population),
        }
        if s.rate is None:
            lines.append(catalog.text(language, "rounds.per_segment_line", **params))
            continue
        expected = catalog.number(language, s.invited * s.rate, 1)
        lines.append(
            catalog.text(
                language,
                "rounds.per_segment_line_expected",
                rate=f"{round(s.rate * 100)} %",
                expected=expected,
                **params,
            )
        )
    if sample.stratified_by is not None:
        lines.append(stratified_line(context, language, started))
    return catalog.text(
        language,
        "rounds.started",
        invited=len(sample.user_ids),
        segment=segment_note,
        per_segment=Html("\n".join(lines)),
        **skipped,
    )


def stratified_line(context: PulseContext, language: str, started: RoundStarted) -> Html:
    """How each segment's invitations were split by the attribute the round was stratified by."""
    catalog = context.services.catalog
    unknown = catalog.text(language, "rounds.unknown_value")
    parts = [
        catalog.text(
            language,
            "rounds.stratified_segment",
            segment=segment_names.shown(
                catalog, language, started.segment_names.get(s.segment_id, str(s.segment_id))
            ),
            values=Html(
                ", ".join(
                    catalog.text(
                        language,
                        "rounds.stratified_value",
                        value=unknown if value is None else value,
                        invited=n,
                    )
                    for value, n in s.by_value
                )
            ),
        )
        for s in started.sample.strata
        if s.by_value
    ]
    return catalog.text(
        language,
        "rounds.stratified",
        attribute=started.sample.stratified_by,
        parts=Html("; ".join(parts)),
    )
