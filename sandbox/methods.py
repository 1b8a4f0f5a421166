"""The Bot API methods the sandbox speaks, with the checks Telegram makes before it obeys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.commands import CommandScope
from sandbox.entities import ParsedText, check_length, parse_text
from sandbox.errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    NOT_STARTED,
    ApiError,
    bad_request,
    forbidden,
)
from sandbox.markup import check_inline_markup, check_reply_markup
from sandbox.params import Params, UploadedFile
from sandbox.transcript import BUTTONS_REMOVED, TranscriptEvent
from sandbox.webhook import check_webhook
from sandbox.world import Chat, ChatMessage, StoredFile, World

Handler = Callable[[Params], Awaitable[Any]]

# Calls that put a message in a chat, and so count against Telegram's flood limits.
MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "editmessagetext", "editmessagereplymarkup"}
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
MAX_POLL_TIMEOUT = 50.0
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)


class BotApi:
    """Carries out Bot API calls against the simulated world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.menus = world.menus
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "deleteWebhook": self.delete_webhook,
            "setWebhook": self.set_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendChatAction": self.send_chat_action,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
        }
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}

    def find(self, method: str) -> tuple[str, Handler] | None:
        """The canonical name and handler of a method; names are case-insensitive."""
        return self._handlers.get(method.lower())

    async def get_me(self, params: Params) -> Any:
        """Returns the bot's own user."""
        return {
            **self.world.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: Params) -> Any:
        """Confirms updates below the offset and long-polls for new ones."""
        if self.world.webhook.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = min(max(params.number("timeout", 0.0), 0.0), MAX_POLL_TIMEOUT)
        allowed = params.json("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        return await self.world.updates.fetch(params.integer("offset"), limit, timeout, allowed)

    async def delete_webhook(self, params: Params) -> Any:
        """Removes the webhook, if any (updates wait for getUpdates); drops them if asked."""
        self.world.webhook.delete()
        if params.flag("drop_pending_updates"):
            self.world.updates.drop_pending()
        return True

    async def set_webhook(self, params: Params) -> Any:
        """Delivers updates to a URL from now on, as Telegram does."""
        url = params.text("url") or ""
        if not url:
            # Telegram's own way to remove a webhook: setWebhook with an empty URL.
            return await self.delete_webhook(params)
        hook = check_webhook(url, params.text("secret_token"), params.integer("max_connections"))
        allowed = params.json("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        self.world.updates.allow(allowed)
        if params.flag("drop_pending_updates"):
            self.world.updates.drop_pending()
        self.world.webhook.set(hook)
        return True

    async def get_webhook_info(self, params: Params) -> Any:
        """The webhook set, if any, and how delivery goes."""
        hook = self.world.webhook.webhook
        info: dict[str, Any] = {
            "url": "" if hook is None else hook.url,
            "has_custom_certificate": False,
            "pending_update_count": self.world.updates.pending,
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if self.world.webhook.stats.last_error is not None:
                info["last_error_date"] = self.world.now()
                info["last_error_message"] = self.world.webhook.stats.last_error
        return info

    async def set_my_commands(self, params: Params) -> Any:
        """Stores a command menu for a scope and language."""
        scope = self._scope(params)
        self.menus.set(scope, params.text("language_code") or "", params.json("commands"))
        return True

    async def get_my_commands(self, params: Params) -> Any:
        """Returns the command menu set for exactly this scope and language."""
        commands = self.menus.get(self._scope(params), params.text("language_code") or "")
        return [{"command": command, "description": text} for command, text in commands]

    async def delete_my_commands(self, params: Params) -> Any:
        """Removes the command menu for a scope and language."""
        self.menus.delete(self._scope(params), params.text("language_code") or "")
        return True

    async def send_message(self, params: Params) -> Any:
        """Sends a text message."""
        chat = self._writable_chat(params)
        text = params.text("text") or ""
        parsed = parse_text(text, params.text("parse_mode"))
        check_length(parsed)
        markup = check_reply_markup(params.json("reply_markup"))
        message = self.world.post(
            chat,
            self.world.bot,
            "text",
            text,
            parsed,
            reply_markup=markup,
            reply_to=self._replied(chat, params),
        )
        self._record(message, "message")
        return message.to_json()

    async def send_photo(self, params: Params) -> Any:
        """Sends a photo, uploaded or by file_id."""
        return self._send_media(params, "photo")

    async def send_document(self, params: Params) -> Any:
        """Sends a document, uploaded or by file_id."""
        return self._send_media(params, "document")

    async def send_chat_action(self, params: Params) -> Any:
        """Shows "typing…" and the like; nothing to keep."""
        self._writable_chat(params)
        if "action" not in params:
            raise bad_request("action is empty")
        return True

    async def edit_message_text(self, params: Params) -> Any:
        """Changes the text of one of the bot's messages, and its inline keyboard."""
        message = self._editable(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text = params.text("text") or ""
        parsed = parse_text(text, params.text("parse_mode"))
        check_length(parsed)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = check_inline_markup(params.json("reply_markup"))
        return self._edit(message, text, parsed, markup)

    async def edit_message_reply_markup(self, params: Params) -> Any:
        """Changes or removes the inline keyboard of one of the bot's messages."""
        message = self._editable(params)
        markup = check_inline_markup(params.json("reply_markup"))
        return self._edit(message, message.html, message.parsed, markup)

    async def delete_message(self, params: Params) -> Any:
        """Removes a message from the chat."""
        chat = self._chat(params)
        message = chat.find(params.required_integer("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        message.deleted = True
        self.world.changed(chat)
        return True

    async def answer_callback_query(self, params: Params) -> Any:
        """Answers a button press; the user sees the text as a popup or an alert."""
        query = self.world.callback_queries.get(params.text("callback_query_id") or "")
        if query is None or query.answered:
            raise bad_request(QUERY_INVALID)
        query.answered = True
        text = params.text("text") or ""
        query.person.callback_answers.append(text)
        if text:
            kind = "alert" if params.flag("show_alert") else "popup"
            self.world.record(TranscriptEvent(query.person.name, "bot->user", text, kind=kind))
        self.world.changed()
        return True

    def _send_media(self, params: Params, kind: str) -> Any:
        chat = self._writable_chat(params)
        file = self._file(params, kind)
        caption = params.text("caption") or ""
        parsed = parse_text(caption, params.text("parse_mode"))
        check_length(parsed, caption=True)
        markup = check_reply_markup(params.json("reply_markup"))
        message = self.world.post(
            chat,
            self.world.bot,
            kind,
            caption,
            parsed,
            reply_markup=markup,
            file=file,
            reply_to=self._replied(chat, params),
        )
        self._record(message, kind)
        return message.to_json()

    def _file(self, params: Params, kind: str) -> StoredFile:
        value = params.file(kind)
        if value is None:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            if not value.data:
                raise bad_request("file must be non-empty")
            return self.world.store_file(value.data, value.filename, value.mime_type)
        if value in self.world.files:
            return self.world.files[value]
        if value.startswith(("http://", "https://")):
            return self.world.store_file(b"", value.rsplit("/", 1)[-1], None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _chat(self, params: Params) -> Chat:
        if (params.text("chat_id") or "").startswith("@"):
            raise bad_request(CHAT_NOT_FOUND)
        return self.world.chat(params.required_integer("chat_id"))

    def _writable_chat(self, params: Params) -> Chat:
        chat = self._chat(params)
        if chat.blocked:
            raise forbidden(BLOCKED)
        if chat.type == "private" and not chat.started:
            raise forbidden(NOT_STARTED)
        return chat

    def _editable(self, params: Params) -> ChatMessage:
        if "chat_id" not in params and "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self._writable_chat(params)
        message = chat.find(params.required_integer("message_id"))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _edit(
        self, message: ChatMessage, html: str, parsed: ParsedText, markup: dict[str, Any] | None
    ) -> Any:
        if parsed == message.parsed and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        only_buttons_gone = parsed == message.parsed and bool(message.buttons)
        self.world.edit(message, html, parsed, markup)
        if only_buttons_gone and not message.buttons:
            # A note, not the whole message again: printed in full it reads as if the bot
            # had sent it twice, often in a later scene than the one that sent it.
            self._record_buttons_removed(message)
        else:
            self._record(message, "edit")
        return message.to_json()

    def _replied(self, chat: Chat, params: Params) -> ChatMessage | None:
        reply = params.json("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply.get("message_id", params.integer("reply_to_message_id"))
        if message_id is None:
            return None
        if reply.get("chat_id") not in (None, chat.id, str(chat.id)):
            raise bad_request("replies to other chats are not supported by the sandbox")
        replied = chat.find(int(message_id))
        allow_missing = reply.get("allow_sending_without_reply") or params.flag(
            "allow_sending_without_reply"
        )
        if replied is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return replied

    def _scope(self, params: Params) -> CommandScope:
        scope = CommandScope.from_json(params.json("scope"))
        if scope.chat_id is not None:
            self.world.chat(scope.chat_id)
        return scope

    def _record(self, message: ChatMessage, kind: str) -> None:
        event = TranscriptEvent(_who(message), "bot->user", message.text, message.buttons, kind)
        self.world.record(event)

    def _record_buttons_removed(self, message: ChatMessage) -> None:
        lines = [line.strip("“”\" ") for line in message.text.splitlines() if line.strip()]
        event = TranscriptEvent(
            _who(message), "bot->user", lines[-1] if lines else "", kind=BUTTONS_REMOVED
        )
        self.world.record(event)


def _who(message: ChatMessage) -> str:
    chat = message.chat
    return chat.person.name if chat.person is not None else chat.title or str(chat.id)
