"""Small builders for the updates Telegram sends, as JSON and then as PTB objects."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data


def private_chat(person: Person) -> dict[str, Any]:
    return {"id": person.id, "type": "private", "first_name": person.first_name}


def message(
    bot: Bot,
    person: Person,
    text: str | None = None,
    *,
    chat: dict[str, Any] | None = None,
    edited: bool = False,
    extra: dict[str, Any] | None = None,
) -> Update:
    """A message (or an edit of one) from `person`, with a command entity for `/cmd`."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(person),
        "from": person.as_json(),
    }
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    if edited:
        body["edit_date"] = int(time.time())
    body.update(extra or {})
    key = "edited_message" if edited else "message"
    update = Update.de_json({"update_id": next(_update_ids), key: body}, bot)
    assert update is not None
    return update


def press(bot: Bot, person: Person, data: str, *, message_id: int = 1) -> Update:
    """A press by `person` on a button with callback data `data`."""
    body = {
        "id": str(next(_update_ids)),
        "from": person.as_json(),
        "chat_instance": "1",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": private_chat(person),
            "from": {"id": bot.id, "is_bot": True, "first_name": "Pulse"},
            "text": "question",
        },
    }
    update = Update.de_json({"update_id": next(_update_ids), "callback_query": body}, bot)
    assert update is not None
    return update


def blocked(bot: Bot, person: Person) -> Update:
    """Telegram's report that `person` blocked the bot."""
    now = int(time.time())
    bot_user = {"id": bot.id, "is_bot": True, "first_name": "Pulse"}
    body = {
        "chat": private_chat(person),
        "from": person.as_json(),
        "date": now,
        "old_chat_member": {"user": bot_user, "status": "member"},
        "new_chat_member": {"user": bot_user, "status": "kicked", "until_date": 0},
    }
    update = Update.de_json({"update_id": next(_update_ids), "my_chat_member": body}, bot)
    assert update is not None
    return update


def without_sender(bot: Bot, chat: dict[str, Any], text: str, *, key: str = "message") -> Update:
    """A message with no `from`: a channel post, an anonymous admin, some service messages."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    if chat["type"] != "private":
        body["sender_chat"] = chat
    update = Update.de_json({"update_id": next(_update_ids), key: body}, bot)
    assert update is not None
    return update


def document(bot: Bot, person: Person, file_id: str, file_name: str, size: int) -> Update:
    """A file `person` sent (Telegram's document message), without a caption."""
    return message(
        bot,
        person,
        extra={
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_name": file_name,
                "mime_type": "text/csv",
                "file_size": size,
            }
        },
    )
