"""The simulated Telegram state: accounts, chats, their messages, files and the update queue.

Objects render themselves in the Bot API's JSON shape so PTB's `de_json` reads them unchanged.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.commands import CommandMenus
from sandbox.entities import ParsedText
from sandbox.errors import CHAT_NOT_FOUND, bad_request
from sandbox.transcript import TranscriptEvent
from sandbox.updates import UpdateQueue
from sandbox.waiting import Signal
from sandbox.webhook import WebhookDelivery

JSON = dict[str, Any]


@dataclass(eq=False)
class Person:
    """A Telegram account: a simulated user, or the bot itself."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    callback_answers: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The name a transcript shows."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> JSON:
        """The Bot API `User` object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class StoredFile:
    """File content that was uploaded to, or sent by, the sandbox."""

    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None = None
    mime_type: str | None = None


@dataclass(eq=False)
class Chat:
    """A private chat with one simulated user, or a group the bot is in."""

    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    person: Person | None = None  # the user of a private chat
    messages: list[ChatMessage] = field(default_factory=list)
    started: bool = False  # the user has written to the bot, so the bot may write back
    blocked: bool = False
    last_message_id: int = 0
    # Wakes only those waiting on this chat, so thousands of waiting users stay cheap.
    signal: Signal = field(default_factory=Signal, repr=False)

    def to_json(self) -> JSON:
        """The Bot API `Chat` object."""
        if self.person is None:
            return {"id": self.id, "type": self.type, "title": self.title}
        data = self.person.to_json()
        data.pop("is_bot")
        data.pop("language_code", None)
        data["type"] = self.type
        return data

    def find(self, message_id: int) -> ChatMessage | None:
        """The message with this id, unless it was deleted."""
        for message in reversed(self.messages):
            if message.message_id == message_id and not message.deleted:
                return message
        return None


@dataclass(eq=False)
class ChatMessage:
    """A message as both sides see it; edits change it in place, so users see them at once."""

    chat: Chat
    message_id: int
    sender: Person
    date: int
    kind: str  # "text", "photo", "document" or "sticker"
    html: str  # the text or caption exactly as sent, markup included
    parsed: ParsedText  # what the reader sees
    reply_markup: JSON | None = None
    file: StoredFile | None = None
    reply_to: ChatMessage | None = None
    edit_date: int | None = None
    deleted: bool = False
    version: int = 0  # the world's change counter when this was sent or last edited

    @property
    def text(self) -> str:
        """What the reader sees: the text without markup, or a media message's caption."""
        return self.parsed.plain

    @property
    def caption(self) -> str | None:
        """The plain caption of a photo or document; None for a text message."""
        return None if self.kind == "text" else self.parsed.plain

    @property
    def buttons(self) -> list[list[str]]:
        """The labels of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[button["text"] for button in row] for row in rows]

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent this message."""
        return self.sender.is_bot

    def to_json(self, *, with_reply: bool = True) -> JSON:
        """The Bot API `Message` object."""
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        text_key, entities_key = (
            ("text", "entities")
            if self.kind == "text"
            else (
                "caption",
                "caption_entities",
            )
        )
        if self.parsed.plain:
            data[text_key] = self.parsed.plain
        if self.parsed.entities:
            data[entities_key] = self.parsed.entities
        if self.file is not None:
            data.update(_media_json(self.kind, self.file))
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram returns only inline keyboards as part of a message.
            data["reply_markup"] = self.reply_markup
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.to_json(with_reply=False)
        return data


def _media_json(kind: str, file: StoredFile) -> JSON:
    ids = {"file_id": file.file_id, "file_unique_id": file.file_unique_id}
    if kind == "photo":
        return {
            "photo": [
                {**ids, "width": 320, "height": 240, "file_size": len(file.data)},
                {**ids, "width": 1280, "height": 960, "file_size": len(file.data)},
            ]
        }
    if kind == "sticker":
        sticker = {"type": "regular", "width": 512, "height": 512, "is_animated": False}
        # A sticker's "filename" is its emoji: there is nothing else to name it by.
        return {"sticker": {**ids, **sticker, "is_video": False, "emoji": file.filename}}
    document: JSON = {**ids, "file_size": len(file.data)}
    if file.filename:
        document["file_name"] = file.filename
    if file.mime_type:
        document["mime_type"] = file.mime_type
    return {"document": document}


@dataclass(eq=False)
class CallbackQuery:
    """A button press waiting for the bot's answerCallbackQuery."""

    query_id: str
    person: Person
    answered: bool = False


class World:
    """Everything the fake Telegram knows, shared by the HTTP side and the simulated users."""

    def __init__(self, bot: Person, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock
        self.signal = Signal()
        self.updates = UpdateQueue(self.signal)
        self.webhook = WebhookDelivery(self.updates, self.signal)
        self.chats: dict[int, Chat] = {}
        self.menus = CommandMenus()
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.transcript: list[TranscriptEvent] = []
        self.version = 0

    def now(self) -> int:
        """The current date as Telegram sends it: integer Unix seconds."""
        return int(self.clock())

    def changed(self, chat: Chat | None = None) -> int:
        """Counts a change and wakes those waiting for one, in `chat` if it is about a chat."""
        self.version += 1
        self.signal.notify()
        if chat is not None:
            chat.signal.notify()
        return self.version

    def chat(self, chat_id: int) -> Chat:
        """The chat with this id, or the 400 "chat not found"."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def post(
        self,
        chat: Chat,
        sender: Person,
        kind: str,
        html: str,
        parsed: ParsedText,
        *,
        reply_markup: JSON | None = None,
        file: StoredFile | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        """Adds a message to a chat with the chat's next message id."""
        chat.last_message_id += 1
        message = ChatMessage(
            chat, chat.last_message_id, sender, self.now(), kind, html, parsed,
            reply_markup=reply_markup, file=file, reply_to=reply_to,
        )  # fmt: skip
        chat.messages.append(message)
        message.version = self.changed(chat)
        return message

    def edit(
        self, message: ChatMessage, html: str, parsed: ParsedText, reply_markup: JSON | None
    ) -> None:
        """Changes a message in place, as everyone in the chat then sees it."""
        message.html = html
        message.parsed = parsed
        message.reply_markup = reply_markup
        message.edit_date = self.now()
        message.version = self.changed(message.chat)

    def store_file(self, data: bytes, filename: str | None, mime_type: str | None) -> StoredFile:
        """Keeps uploaded content under a new file_id, so it can be sent again by id."""
        number = len(self.files) + 1
        digest = hashlib.sha256(data).hexdigest()[:16]
        stored = StoredFile(f"SANDBOX-FILE-{number}", digest, data, filename, mime_type)
        self.files[stored.file_id] = stored
        return stored

    def open_query(self, person: Person) -> CallbackQuery:
        """Starts a callback query for a press, to be answered by the bot."""
        query = CallbackQuery(str(len(self.callback_queries) + 1), person)
        self.callback_queries[query.query_id] = query
        return query

    def record(self, event: TranscriptEvent) -> None:
        """Adds an event to the transcript."""
        self.transcript.append(event)
