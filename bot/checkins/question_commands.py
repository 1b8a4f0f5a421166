"""/questions: the check-in wording in both languages; `set` rewords one question in one
language, `reset` goes back to the catalog's wording."""

from __future__ import annotations

from telegram import Update

from bot.checkins import wording
from bot.checkins.questions import QUESTIONS, parse_reset, parse_set
from bot.common.admin_chat import AdminChat, admin_chat, raw_arguments
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument, WrongUsage


async def _show(chat: AdminChat) -> None:
    services = chat.services
    current = await wording.current(services.db, services.catalog)
    lines = [chat.text("questions.title")]
    for number, question in enumerate(QUESTIONS, start=1):
        lines.append(
            chat.text(
                "questions.question",
                number=number,
                name=question,
                label=chat.text(f"questions.name.{question}"),
            )
        )
        for entry in (w for w in current if w.question == question):
            key = "questions.wording_changed" if entry.changed else "questions.wording"
            lines.append(chat.text(key, lang=entry.language, text=entry.text))
    lines.append(chat.text("admin.usage.questions"))
    await chat.send("\n".join(lines))


async def questions_command(update: Update, context: PulseContext) -> None:
    """Shows the check-in wording, or sets or resets it."""
    chat = await admin_chat(update, context)
    services = context.services
    args = list(context.args or [])
    verb = args[0].lower() if args else ""
    try:
        if not args:
            await _show(chat)
        elif verb == "set":
            question, language, text = parse_set(args, raw_arguments(update))
            change = await wording.change(
                services.db,
                services.catalog,
                question,
                language,
                text,
                actor_id=chat.user_id,
                now=services.now(),
            )
            if change is None:
                await chat.say("admin.already_done")
            else:
                old, new = change
                key = "questions.unchanged" if old == new else "questions.changed"
                await chat.say(key, name=question, lang=language, old=old, new=new)
        elif verb == "reset":
            question_or_all = parse_reset(args)
            reset = await wording.reset(
                services.db,
                services.catalog,
                question_or_all,
                actor_id=chat.user_id,
                now=services.now(),
            )
            if reset is None:
                await chat.say("admin.already_done")
            else:
                await chat.say("questions.reset", count=len(reset))
        else:
            raise WrongUsage(args)
    except WrongUsage:
        await chat.usage("questions")
    except InvalidArgument as exc:
        await chat.refuse(exc, "questions")
