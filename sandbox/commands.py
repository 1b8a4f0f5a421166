"""The bot's command menus per scope and language (setMyCommands), and which one a user sees."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.errors import CHAT_NOT_FOUND, bad_request

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SCOPE_TYPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
MAX_COMMANDS = 100


@dataclass(frozen=True)
class CommandScope:
    """Who a command menu is for, as in Telegram's BotCommandScope."""

    type: str = "default"
    chat_id: int | None = None
    user_id: int | None = None

    @classmethod
    def from_json(cls, data: object) -> CommandScope:
        """Reads a BotCommandScope object; raises a 400 for one Telegram would refuse."""
        if data is None:
            return cls()
        if not isinstance(data, dict) or data.get("type") not in _SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        ids: dict[str, int] = {}
        for key in _SCOPE_TYPES[data["type"]]:
            value = data.get(key)
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if not isinstance(value, int):
                raise bad_request(CHAT_NOT_FOUND if key == "chat_id" else "user not found")
            ids[key] = value
        return cls(data["type"], ids.get("chat_id"), ids.get("user_id"))


Command = tuple[str, str]  # (command, description)


class CommandMenus:
    """The command lists the bot set, keyed by scope and language code ("" for all)."""

    def __init__(self) -> None:
        self._menus: dict[tuple[CommandScope, str], list[Command]] = {}

    def set(self, scope: CommandScope, language_code: str, commands: object) -> None:
        """Stores a menu from setMyCommands' `commands`; an empty list deletes it."""
        parsed = _parse_commands(commands)
        if parsed:
            self._menus[scope, language_code] = parsed
        else:
            self.delete(scope, language_code)

    def get(self, scope: CommandScope, language_code: str = "") -> list[Command]:
        """The menu set for exactly this scope and language (what getMyCommands returns)."""
        return list(self._menus.get((scope, language_code), []))

    def delete(self, scope: CommandScope, language_code: str = "") -> None:
        """Removes the menu for this scope and language."""
        self._menus.pop((scope, language_code), None)

    def visible(self, chat_id: int, user_id: int, language_code: str | None) -> list[Command]:
        """The menu a user sees in a chat: the narrowest scope that has one, as Telegram picks."""
        if chat_id > 0:
            scopes = [CommandScope("chat", chat_id), CommandScope("all_private_chats")]
        else:
            scopes = [
                CommandScope("chat_member", chat_id, user_id),
                CommandScope("chat", chat_id),
                CommandScope("all_group_chats"),
            ]
        scopes.append(CommandScope())
        languages = [language_code, ""] if language_code else [""]
        for scope in scopes:
            for language in languages:
                if (scope, language) in self._menus:
                    return self.get(scope, language)
        return []


def _parse_commands(commands: object) -> list[Command]:
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("can't parse commands JSON object")
    parsed: list[Command] = []
    for item in commands:
        entry: dict[str, Any] = item if isinstance(item, dict) else {}
        command, description = entry.get("command"), entry.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        parsed.append((command, description))
    return parsed
