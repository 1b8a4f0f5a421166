"""Turns a conversation's outcome into Telegram messages, after its transaction committed."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.catalog import Catalog
from conversations.replies import Outcome, Reply

log = logging.getLogger(__name__)

# Telegram's limit is 4096 characters; a little room is left for the HTML entities.
MESSAGE_CHARS = 4000


def split_message(text: str) -> list[str]:
    """The text in parts of at most MESSAGE_CHARS, cut at line ends (lines stay whole)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + 1 + len(line) > MESSAGE_CHARS:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return parts


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


async def answer_press(catalog: Catalog, query: CallbackQuery, outcome: Outcome) -> None:
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
        task = asyncio.create_task(_close_buttons(query.message))
        _closing.add(task)
        task.add_done_callback(_closing.discard)


async def _answer(query: CallbackQuery, notice: str | None) -> None:
    try:
        await query.answer(notice)
    except BadRequest as exc:
        # A press handled again after a restart is past Telegram's answer window; its
        # effect and replies still count, only the popup is lost.
        if "query is too old" not in str(exc).lower():
            raise
        log.info("press %s answered too late for its popup", query.id)


# Edits in flight; referenced so they are not collected before they finish.
_closing: set[asyncio.Task[None]] = set()


async def _close_buttons(message: Message) -> None:
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest as exc:
        # Two quick presses on one message: the first already took the buttons off.
        if "not modified" not in str(exc).lower():
            log.warning("could not take the buttons off message %s: %s", message.id, exc)
    except TelegramError as exc:
        log.warning("could not take the buttons off message %s: %s", message.id, exc)


async def buttons_closed() -> None:
    """Waits for the button edits still in flight (before the bot stops)."""
    if _closing:
        await asyncio.gather(*_closing, return_exceptions=True)
