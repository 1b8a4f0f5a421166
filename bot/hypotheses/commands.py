"""/hypothesis: admins state what they believe about customers' challenges, and see how
the check-ins' answers bear it out."""

from __future__ import annotations

from telegram import Update

from bot.catalog import Html
from bot.common.admin_chat import AdminChat, admin_chat, raw_arguments
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument, WrongUsage
from bot.hypotheses import book as hypothesis_book
from bot.hypotheses.book import Listed
from bot.hypotheses.evidence import split_segment
from storage import segments
from storage.hypotheses import HypothesisStatus


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def listed_lines(chat: AdminChat, item: Listed) -> list[Html]:
    """One hypothesis as /hypothesis lists it: id, scope, status, evidence, both wordings."""
    h, found = item.hypothesis, item.evidence
    scope = item.segment if item.segment is not None else chat.text("hypotheses.everyone")
    if h.status is HypothesisStatus.RETIRED:
        state = chat.text("hypotheses.retired")
    elif h.retire_after is not None:
        state = chat.text("hypotheses.active_until", answers=h.retire_after)
    else:
        state = chat.text("hypotheses.active")
    verdict = chat.text(f"hypotheses.status.{found.status.value}")
    if found.share is None:
        figures = chat.text("hypotheses.no_answers")
    else:
        figures = chat.text(
            "hypotheses.figures",
            answers=found.answers,
            share=_percent(found.share),
            low=_percent(found.low),
            high=_percent(found.high),
        )
    return [
        chat.text(
            "hypotheses.line",
            id=h.id,
            scope=scope,
            state=state,
            verdict=verdict,
            figures=figures,
        ),
        chat.text("hypotheses.wording", lang="nl", text=h.text_nl),
        chat.text("hypotheses.wording", lang="en", text=h.text_en),
    ]


async def _list(chat: AdminChat) -> None:
    items = await hypothesis_book.listing(chat.services.db)
    if not items:
        await chat.say("hypotheses.empty")
        return
    lines: list[str] = [chat.text("hypotheses.title")]
    for item in items:
        lines += listed_lines(chat, item)
    await chat.send("\n".join(lines))


# Past anything SQLite stores (2^63): such an id names no hypothesis.
MAX_ID = 2**62


def _id(word: str) -> int:
    text = word.removeprefix("#")
    if not text.isdecimal():
        raise WrongUsage(word)
    if int(text) > MAX_ID:
        raise InvalidArgument("unknown_hypothesis", id=text)
    return int(text)


async def _add(chat: AdminChat, rest: str) -> None:
    services = chat.services
    names = [s.name for s in await services.db.read(segments.list_all)]
    segment, text = split_segment(rest, names)
    added = await hypothesis_book.add(
        services.db, segment, text, actor_id=chat.user_id, now=services.now()
    )
    if added is None:
        await chat.say("admin.already_done")
        return
    scope = segment if segment is not None else chat.text("hypotheses.everyone")
    await chat.say("hypotheses.added", id=added.id, scope=scope, text=added.text_en)


async def _text(chat: AdminChat, rest: str) -> None:
    words = rest.split(maxsplit=2)
    if len(words) < 3 or words[1].lower() not in ("nl", "en"):
        raise WrongUsage(rest)
    hypothesis_id, language = _id(words[0]), words[1].lower()
    services = chat.services
    changed = await hypothesis_book.reword(
        services.db, hypothesis_id, language, words[2], actor_id=chat.user_id, now=services.now()
    )
    if changed is None:
        await chat.say("admin.already_done")
        return
    old, new = changed
    await chat.say("hypotheses.reworded", id=hypothesis_id, lang=language, old=old, new=new)


async def _retire(chat: AdminChat, rest: str) -> None:
    words = rest.split()
    services = chat.services
    if len(words) == 1:
        hypothesis_id = _id(words[0])
        retired = await hypothesis_book.retire(
            services.db, hypothesis_id, actor_id=chat.user_id, now=services.now()
        )
        key = "hypotheses.retired_now" if retired else "hypotheses.retired_before"
        await chat.say(key, id=hypothesis_id)
        return
    if len(words) == 3 and words[1].lower() == "after":
        hypothesis_id = _id(words[0])
        if not words[2].isdecimal() or not 1 <= int(words[2]) <= 100_000:
            raise InvalidArgument("number", value=words[2], low=1, high=100_000)
        await hypothesis_book.retire_after(
            services.db, hypothesis_id, int(words[2]), actor_id=chat.user_id, now=services.now()
        )
        await chat.say("hypotheses.retires_after", id=hypothesis_id, answers=int(words[2]))
        return
    raise WrongUsage(rest)


async def hypothesis_command(update: Update, context: PulseContext) -> None:
    """Lists, adds, rewords or retires the hypotheses the check-ins probe."""
    chat = await admin_chat(update, context)
    verb, _, rest = raw_arguments(update).strip().partition(" ")
    rest = rest.strip()
    try:
        if not verb:
            await _list(chat)
        elif verb.lower() == "add" and rest:
            await _add(chat, rest)
        elif verb.lower() == "text" and rest:
            await _text(chat, rest)
        elif verb.lower() == "retire" and rest:
            await _retire(chat, rest)
        else:
            raise WrongUsage(verb)
    except WrongUsage:
        await chat.usage("hypothesis")
    except InvalidArgument as exc:
        await chat.refuse(exc, "hypothesis")
