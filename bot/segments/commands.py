"""/segments (customers, invite links and response per segment) and /segment rename|remove."""

from __future__ import annotations

from telegram import Update

from bot.catalog import Html
from bot.common import segment_names
from bot.common.admin_chat import AdminChat, admin_chat, raw_arguments
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument, WrongUsage
from bot.segments import management as segments
from storage import segments as segment_store
from storage.segment_stats import SegmentFigures


def _segment_lines(chat: AdminChat, figures: SegmentFigures, bot_username: str) -> list[Html]:
    if figures.invited:
        response = chat.text(
            "segments.response",
            percent=round(100 * figures.answered / figures.invited),
            answered=figures.answered,
            invited=figures.invited,
        )
    else:
        response = chat.text("segments.no_response")
    name = segment_names.shown(chat.catalog, chat.language, figures.name)
    lines = [
        chat.text(
            "segments.line",
            name=name,
            customers=figures.customers,
            active=figures.active,
            paused=figures.paused,
            gone=figures.gone,
            response=response,
        )
    ]
    if figures.invite_code:
        link = f"https://t.me/{bot_username}?start={figures.invite_code}"
        lines.append(chat.text("segments.link", link=link))
    else:
        lines.append(chat.text("segments.no_link", name=name))
    return lines


async def segments_command(update: Update, context: PulseContext) -> None:
    """Lists the segments with their customers, invite links and response rates."""
    chat = await admin_chat(update, context)
    services = context.services
    rows = await segments.overview(services.db, services.now())
    days = segments.RESPONSE_PERIOD.days
    lines = [chat.text("segments.title", days=days)]
    for figures in rows:
        lines += _segment_lines(chat, figures, context.bot.username)
    await chat.send("\n".join(lines))


async def _rename(chat: AdminChat, text: str) -> None:
    services = chat.services
    names = [segment.name for segment in await services.db.read(segment_store.list_all)]
    # The built-in name, as shown translated, splits off the command like the others.
    names += [segment_names.shown(chat.catalog, chat.language, n) for n in names]
    old, new = segments.split_rename(text, names)
    old = segment_names.meant(chat.catalog, old)
    renamed = await segments.rename(
        services.db, old, new, actor_id=chat.user_id, now=services.now()
    )
    if renamed is None:
        await chat.say("admin.already_done")
    elif renamed.old == renamed.new:
        await chat.say("segments.renamed_same", name=renamed.new)
    else:
        await chat.say("segments.renamed", old=renamed.old, new=renamed.new)


async def _remove(chat: AdminChat, name: str) -> None:
    services = chat.services
    try:
        removed = await segments.remove(
            services.db,
            segment_names.meant(chat.catalog, name),
            actor_id=chat.user_id,
            now=services.now(),
        )
    except segments.DefaultSegment as exc:
        await chat.say(
            "segments.default", name=segment_names.shown(chat.catalog, chat.language, str(exc))
        )
        return
    except segments.SegmentInUse as exc:
        use = exc.use
        await chat.say(
            "segments.in_use",
            name=exc.segment.name,
            customers=use.customers,
            pending=use.pending,
            invitations=use.invitations,
            hypotheses=use.hypotheses,
        )
        return
    if removed is None:
        await chat.say("admin.already_done")
    else:
        await chat.say("segments.removed", name=removed.name)


async def segment_command(update: Update, context: PulseContext) -> None:
    """Renames a segment, or removes one that has no customers and no history."""
    chat = await admin_chat(update, context)
    verb, _, rest = raw_arguments(update).strip().partition(" ")
    rest = rest.strip()
    try:
        if verb.lower() == "rename" and rest:
            await _rename(chat, rest)
        elif verb.lower() == "remove" and rest:
            await _remove(chat, rest)
        else:
            raise WrongUsage(verb)
    except WrongUsage:
        await chat.usage("segment")
    except InvalidArgument as exc:
        await chat.refuse(exc, "segment")
