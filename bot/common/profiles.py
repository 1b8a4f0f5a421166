"""What Pulse takes from a Telegram update about the person behind it."""

from __future__ import annotations

from telegram import Update, User

from conversations.enrollment import language_for
from storage.customers import Profile


def profile_of(user: User, chat_id: int) -> Profile:
    """The stored profile fields of a Telegram user in a chat."""
    return Profile(
        user_id=user.id,
        chat_id=chat_id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
    )


def sender(update: Update) -> tuple[Profile, str]:
    """The profile and Telegram language of whoever sent a private-chat update."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        raise ValueError("update has no user or chat")
    return profile_of(user, chat.id), language_for(user.language_code)
