"""Simulated users and groups: they write to the bot, press its buttons and read its replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.entities import ParsedText, command_entities
from sandbox.markup import find_inline_button, reply_keyboard_labels
from sandbox.transcript import TranscriptEvent
from sandbox.world import Chat, ChatMessage, Person, World

# The sandbox never decodes images, so any bytes make a photo.
DEFAULT_PHOTO = b"\xff\xd8\xff\xe0sandbox-photo\xff\xd9"


class SimulationError(Exception):
    """A simulated user was asked to do something a real user could not do."""


class NoSuchButton(SimulationError):
    """The user sees no button with that label."""


class NoMatchingMessage(TimeoutError):
    """No message the user received matched the condition before the deadline."""


class _ChatView:
    """What one chat looks like from the users' side, shared by private chats and groups."""

    def __init__(self, world: World, chat: Chat) -> None:
        self._world = world
        self._chat = chat
        self._mark = 0  # the world's change counter at the last action in this chat

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's messages in this chat, oldest first, as they look now (edits included)."""
        return [m for m in self._chat.messages if m.from_bot and not m.deleted]

    @property
    def last(self) -> ChatMessage:
        """The bot's most recent message in this chat."""
        messages = self.messages
        if not messages:
            raise SimulationError(f"{self._describe()} has received no messages from the bot")
        return messages[-1]

    async def wait_for(
        self,
        predicate: Callable[[ChatMessage], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline makes a stuck bot fail fast
        *,
        since_last_action: bool = True,
    ) -> ChatMessage:
        """The first bot message matching `predicate`, waiting up to `timeout` seconds for it.

        By default only messages sent or edited since the last thing done in this chat count,
        so a reply is not mistaken for an earlier message that happens to match.
        """
        mark = self._mark if since_last_action else 0
        found: list[ChatMessage] = []

        def check() -> bool:
            found.extend(m for m in self.messages if m.version > mark and predicate(m))
            return bool(found)

        try:
            await self._chat.signal.wait_until(check, timeout)
        except TimeoutError:
            raise NoMatchingMessage(
                f"{self._describe()} received no matching message within {timeout} s; "
                f"latest messages:\n{self._recent()}"
            ) from None
        return found[0]

    def _describe(self) -> str:
        return self._chat.title or str(self._chat.id)

    def _recent(self, count: int = 5) -> str:
        lines = [
            f"  #{m.message_id} ({m.kind}) {m.text!r} {m.buttons if m.buttons else ''}".rstrip()
            for m in self.messages[-count:]
        ]
        return "\n".join(lines) or "  (none)"

    def _write(
        self,
        person: Person,
        kind: str,
        text: str,
        *,
        file_data: bytes | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        reply_to: ChatMessage | None = None,
    ) -> ChatMessage:
        if self._chat.blocked:
            raise SimulationError(f"{person.name} blocked the bot; unblock() first")
        self._mark = self._world.version
        parsed = ParsedText(text, command_entities(text) if kind == "text" else [])
        file = None
        if file_data is not None:
            file = self._world.store_file(file_data, filename, mime_type)
        message = self._world.post(
            self._chat, person, kind, text, parsed, file=file, reply_to=reply_to
        )
        if self._chat.type == "private":
            self._chat.started = True
        self._world.updates.push("message", message.to_json())
        event_kind = "message" if kind == "text" else kind
        self._world.record(TranscriptEvent(self._who(person), "user->bot", text, kind=event_kind))
        return message

    async def _press(self, person: Person, label: str, message: ChatMessage | None) -> None:
        candidates = [message] if message is not None else list(reversed(self.messages))
        for candidate in candidates:
            button = find_inline_button(candidate.reply_markup, label)
            if button is not None:
                self._answerable_press(person, candidate, label, button)
                return
        if message is None and label in self._reply_keyboard():
            self._write(person, "text", label)
            return
        raise NoSuchButton(
            f"{person.name} sees no button {label!r} in {self._describe()}; "
            f"latest messages:\n{self._recent()}"
        )

    def _answerable_press(
        self, person: Person, message: ChatMessage, label: str, button: dict[str, Any]
    ) -> None:
        if "callback_data" not in button:
            raise SimulationError(f"button {label!r} does not call back to the bot: {button}")
        self._mark = self._world.version
        query = self._world.open_query(person)
        payload = {
            "id": query.query_id,
            "from": person.to_json(),
            "message": message.to_json(),
            "chat_instance": str(self._chat.id),
            "data": button["callback_data"],
        }
        self._world.updates.push("callback_query", payload)
        self._world.record(TranscriptEvent(self._who(person), "user->bot", label, kind="press"))
        self._world.changed()

    def _reply_keyboard(self) -> list[str]:
        for message in reversed(self.messages):
            labels = reply_keyboard_labels(message.reply_markup)
            if labels is not None:
                return labels
        return []

    def _who(self, person: Person) -> str:
        if self._chat.type == "private":
            return person.name
        return f"{person.name} in {self._describe()}"


class SimUser(_ChatView):
    """A Telegram user in a private chat with the bot (the chat id is the user id)."""

    def __init__(self, world: World, person: Person, chat: Chat) -> None:
        super().__init__(world, chat)
        self.person = person

    @property
    def id(self) -> int:
        """The user id, which is also the private chat's id."""
        return self.person.id

    @property
    def name(self) -> str:
        """The user's display name."""
        return self.person.name

    @property
    def callback_answers(self) -> list[str]:
        """What the bot's answerCallbackQuery said to this user's presses ("" when silent)."""
        return list(self.person.callback_answers)

    @property
    def started(self) -> bool:
        """Whether the user ever wrote to the bot, so the bot may write to them."""
        return self._chat.started

    @property
    def blocked(self) -> bool:
        """Whether the user has blocked the bot."""
        return self._chat.blocked

    async def send(self, text: str, *, reply_to: ChatMessage | None = None) -> ChatMessage:
        """Writes a text or /command to the bot."""
        return self._write(self.person, "text", text, reply_to=reply_to)

    async def press(self, label: str, *, message: ChatMessage | None = None) -> None:
        """Presses the button with this label on the newest message that has one."""
        await self._press(self.person, label, message)

    async def send_photo(
        self, data: bytes = DEFAULT_PHOTO, *, caption: str = "", filename: str = "photo.jpg"
    ) -> ChatMessage:
        """Sends the bot a photo."""
        return self._write(
            self.person,
            "photo",
            caption,
            file_data=data,
            filename=filename,
            mime_type="image/jpeg",
        )

    async def send_document(
        self,
        data: bytes,
        filename: str,
        *,
        caption: str = "",
        mime_type: str = "application/octet-stream",
    ) -> ChatMessage:
        """Sends the bot a file."""
        return self._write(
            self.person,
            "document",
            caption,
            file_data=data,
            filename=filename,
            mime_type=mime_type,
        )

    async def send_sticker(self, emoji: str = "👍") -> ChatMessage:
        """Sends the bot a sticker."""
        return self._write(self.person, "sticker", "", file_data=b"sticker", filename=emoji)

    async def edit_last(self, text: str) -> ChatMessage:
        """Edits the last text this user sent, which the bot receives as an edited_message."""
        own = [m for m in self._chat.messages if m.sender is self.person and m.kind == "text"]
        if not own:
            raise SimulationError(f"{self.name} has sent no text message to edit")
        message = own[-1]
        self._mark = self._world.version
        self._world.edit(message, text, ParsedText(text, command_entities(text)), None)
        self._world.updates.push("edited_message", message.to_json())
        self._world.record(TranscriptEvent(self.name, "user->bot", text, kind="edit"))
        return message

    async def block(self) -> None:
        """Blocks the bot; the bot gets a my_chat_member update (member -> kicked)."""
        if not self._chat.blocked:
            self._chat.blocked = True
            self._membership_changed("member", "kicked")

    async def unblock(self) -> None:
        """Unblocks the bot; the bot gets a my_chat_member update (kicked -> member)."""
        if self._chat.blocked:
            self._chat.blocked = False
            self._membership_changed("kicked", "member")

    def commands(self) -> list[tuple[str, str]]:
        """The command menu this user sees in the private chat."""
        menus = self._world.menus
        return menus.visible(self._chat.id, self.id, self.person.language_code)

    def _describe(self) -> str:
        return self.name

    def _membership_changed(self, old: str, new: str) -> None:
        self._mark = self._world.version
        bot = self._world.bot.to_json()

        def member(status: str) -> dict[str, Any]:
            # Telegram's "kicked" member always carries until_date; 0 means for ever.
            return {
                "user": bot,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        payload = {
            "chat": self._chat.to_json(),
            "from": self.person.to_json(),
            "date": self._world.now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self._world.updates.push("my_chat_member", payload)
        kind = "block" if new == "kicked" else "unblock"
        event = TranscriptEvent(self.name, "user->bot", f"{kind}ed the bot", kind=kind)
        self._world.record(event)
        self._world.changed()


class SimChat(_ChatView):
    """A group chat the bot is in; any simulated user can write there."""

    @property
    def id(self) -> int:
        """The group's chat id."""
        return self._chat.id

    @property
    def title(self) -> str:
        """The group's title."""
        return self._chat.title or ""

    async def send(
        self, user: SimUser, text: str, *, reply_to: ChatMessage | None = None
    ) -> ChatMessage:
        """`user` writes a text or /command in the group."""
        return self._write(user.person, "text", text, reply_to=reply_to)

    async def press(
        self, user: SimUser, label: str, *, message: ChatMessage | None = None
    ) -> None:
        """`user` presses the button with this label on the newest group message with one."""
        await self._press(user.person, label, message)

    def commands(self, user: SimUser) -> list[tuple[str, str]]:
        """The command menu `user` sees in this group."""
        return self._world.menus.visible(self._chat.id, user.id, user.person.language_code)
