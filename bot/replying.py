"""Turns a conversation's outcome into Telegram messages, after its transaction committed."""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.catalog import Catalog
from conversations.replies import Outcome, Reply

log = logging.getLogger(__name__)


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
    """Answers a button press: the popup first (always), then the buttons, then the replies."""
    notice = render_text(catalog, outcome.notice) if outcome.notice else None
    await query.answer(notice)
    if outcome.close_buttons and isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            # Two quick presses on one message: the first already took the buttons off.
            if "not modified" not in str(exc).lower():
                raise
    # Private chats only, so the presser's user id is the chat id.
    await send_replies(catalog, query.get_bot(), query.from_user.id, outcome)
