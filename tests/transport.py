"""A fake Bot API transport: canned answers in, recorded requests out (like PTB's OfflineRequest).

It is a real `BaseRequest`, the edge PTB lets us replace; everything above it is the real bot.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 999000
BOT_USERNAME = "pulse_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    # Uploaded files by field name: (file name, content).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeTelegram(BaseRequest):
    """Answers the Bot API methods Pulse uses and records every call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids: dict[int, int] = {}
        self._failures: dict[str, list[tuple[int, str]]] = {}
        # Files users sent, by file id: what getFile describes and a download returns.
        self._files: dict[str, bytes] = {}

    def add_file(self, file_id: str, content: bytes) -> None:
        """Makes a file a user sent downloadable, as Telegram keeps it for the bot."""
        self._files[file_id] = content

    def fail_next(self, method: str, status: int, description: str, times: int = 1) -> None:
        """Makes the next `times` calls of `method` fail as Telegram would."""
        self._failures.setdefault(method, []).extend([(status, description)] * times)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if "/file/bot" in url:
            # A download of a file getFile described: its bytes, not a JSON answer.
            self.calls.append(Call("download", {"file_path": name}))
            found = self._files.get(name.removesuffix(".csv"))
            return (200, found) if found is not None else (404, b"Not Found")
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for key, value in (request_data.multipart_data or {}).items():
                # PTB's multipart parts: (file name, content, mime type).
                name_part, content = value[0], value[1]
                data = content if isinstance(content, bytes) else content.read()
                files[key] = (str(name_part), data)
        self.calls.append(Call(name, params, files))
        if self._failures.get(name):
            status, description = self._failures[name].pop(0)
            body = {"ok": False, "error_code": status, "description": description}
            return status, json.dumps(body).encode()
        result = self._result(name, params)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Pulse",
                "username": BOT_USERNAME,
            }
        if name in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            chat_id = int(params["chat_id"])
            if name == "sendMessage":
                self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
                message_id = self._message_ids[chat_id]
            else:
                message_id = int(params["message_id"])
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Pulse"},
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if name == "getFile":
            file_id = str(params["file_id"])
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self._files.get(file_id, b"")),
                "file_path": f"documents/{file_id}.csv",
            }
        if name in ("sendPhoto", "sendDocument"):
            chat_id = int(params["chat_id"])
            self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
            file = {"file_id": f"file-{len(self.calls)}", "file_unique_id": f"u{len(self.calls)}"}
            media: dict[str, Any] = (
                {"photo": [{**file, "width": 1200, "height": 800}]}
                if name == "sendPhoto"
                else {"document": file}
            )
            return {
                "message_id": self._message_ids[chat_id],
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Pulse"},
                "caption": params.get("caption", ""),
                **media,
            }
        return True

    # --- what tests read ---------------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """The sendMessage calls, to one chat or all."""
        return [
            call
            for call in self.calls
            if call.method == "sendMessage"
            and (chat_id is None or int(call.params["chat_id"]) == chat_id)
        ]

    def last_text(self, chat_id: int) -> str:
        """The text of the last message sent to a chat."""
        sent = self.sent(chat_id)
        assert sent, f"nothing was sent to chat {chat_id}"
        return str(sent[-1].params["text"])

    def last_buttons(self, chat_id: int) -> list[tuple[str, str]]:
        """(label, callback data) of every button on the last message sent to a chat."""
        markup = self.sent(chat_id)[-1].params.get("reply_markup")
        if not markup:
            return []
        return [
            (button["text"], button["callback_data"])
            for row in markup["inline_keyboard"]
            for button in row
        ]

    def of(self, method: str) -> list[Call]:
        """Every call of one method."""
        return [call for call in self.calls if call.method == method]
