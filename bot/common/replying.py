"""Turns a conversation's outcome into Telegram messages, after its transaction committed."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any, Protocol

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.catalog import Catalog
from conversations.replies import Outcome, Reply

log = logging.getLogger(__name__)


class Spawn(Protocol):
    """`Services.spawn`: where work beside the update is started (and stopped at shutdown)."""

    def __call__(self, work: Coroutine[Any, Any, None], *, finish: bool = ...) -> None: ...


# Telegram's limit is 4096 characters; a little room is left for the HTML entities.
MESSAGE_CHARS = 4000


def split_message(text: str, limit: int = MESSAGE_CHARS) -> list[str]:
    """The HTML text in parts of at most `limit` characters, cut at line ends; a line longer
    than that is cut at a space where it has one (else anywhere outside a tag or entity),
    and a tag open at a cut is closed before it and opened again after."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            head, line = _cut_line(line, limit)
            parts.append(head)
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return parts


_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]+)[^>]*>")
# Room for the closing tags added at a cut (Telegram's limit counts only the visible text).
_CLOSING_ROOM = 60


def _cut_line(line: str, limit: int) -> tuple[str, str]:
    room = limit - _CLOSING_ROOM
    cut = line.rfind(" ", room // 2, room)
    if cut <= 0 or _inside_markup(line, cut):
        cut = room
        while cut > 0 and _inside_markup(line, cut):
            cut -= 1
    head, tail = line[:cut], line[cut:].lstrip(" ")
    still_open = _open_tags(head)
    closers = "".join(f"</{name}>" for name, _ in reversed(still_open))
    openers = "".join(tag for _, tag in still_open)
    return head + closers, openers + tail


def _inside_markup(line: str, position: int) -> bool:
    """Whether a cut before `position` would split a tag (`<b>`) or an entity (`&amp;`)."""
    before = line[:position]
    in_tag = before.rfind("<") > before.rfind(">")
    amp = before.rfind("&")
    in_entity = amp != -1 and ";" not in before[amp:] and " " not in before[amp:]
    return in_tag or in_entity


def _open_tags(html: str) -> list[tuple[str, str]]:
    """The tags opened in `html` and not closed, outermost first: (name, opening tag)."""
    stack: list[tuple[str, str]] = []
    for match in _TAG.finditer(html):
        name = match.group(2).lower()
        if match.group(1):
            for k in range(len(stack) - 1, -1, -1):
                if stack[k][0] == name:
                    del stack[k:]
                    break
        else:
            stack.append((name, match.group(0)))
    return stack


def render_markup(catalog: Catalog, reply: Reply) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a reply, labelled in its language."""
    if not reply.buttons:
        return None
    rows = [
        [
            InlineKeyboardButton(catalog.text(reply.language, b.label_key), callback_data=b.data)
            for b in row
        ]
        for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows)


def render_text(catalog: Catalog, reply: Reply) -> str:
    """The text of a reply in its language."""
    return catalog.text(reply.language, reply.key, **reply.params)


async def send_replies(catalog: Catalog, bot: Bot, chat_id: int, outcome: Outcome) -> None:
    """Sends an outcome's replies, in order, to a chat."""
    for reply in outcome.replies:
        await bot.send_message(
            chat_id, render_text(catalog, reply), reply_markup=render_markup(catalog, reply)
        )


async def answer_press(
    catalog: Catalog, query: CallbackQuery, outcome: Outcome, *, spawn: Spawn
) -> None:
    """Answers a button press: the popup (always) and the replies together, then the buttons.

    The next question goes before the old buttons come off: Telegram allows a chat about
    one message a second, and the edit is the one that can wait. It waits in the
    background so the chat's next update is not held up by it.
    """
    notice = render_text(catalog, outcome.notice) if outcome.notice else None
    # Side by side: the popup and the next question do not depend on each other, and
    # one after the other they cost the customer two round trips instead of one.
    popup = asyncio.ensure_future(_answer(query, notice))
    try:
        # Private chats only, so the presser's user id is the chat id.
        await send_replies(catalog, query.get_bot(), query.from_user.id, outcome)
    finally:
        await popup
    if outcome.close_buttons and isinstance(query.message, Message):
        spawn(_close_buttons(query.message), finish=True)


async def _answer(query: CallbackQuery, notice: str | None) -> None:
    try:
        await query.answer(notice)
    except BadRequest as exc:
        # A press handled again after a restart is past Telegram's answer window; its
        # effect and replies still count, only the popup is lost.
        if "query is too old" not in str(exc).lower():
            raise
        log.info("press %s answered too late for its popup", query.id)


async def _close_buttons(message: Message) -> None:
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:
        # Two quick presses on one message: the first already took the buttons off.
        if "not modified" not in str(exc).lower():
            log.warning(
                "could not take the buttons off message %s in chat %s after a press: %s",
                message.id,
                message.chat_id,
                exc,
            )
    except Forbidden:
        # They pressed, then blocked the bot: nothing is wrong, and they see no buttons.
        log.info(
            "chat %s blocked the bot right after a press; message %s keeps its buttons",
            message.chat_id,
            message.id,
        )
    except TelegramError as exc:
        log.warning(
            "could not take the buttons off message %s in chat %s after a press: %s",
            message.id,
            message.chat_id,
            exc,
        )
