"""How admin command handlers answer: in the admin's language, with a reason and the
command's usage line when the arguments are wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import LinkPreviewOptions, Update

from bot.catalog import Catalog, Html
from bot.common.context import PulseContext, Services
from bot.common.display import day_text
from bot.common.parsing import InvalidArgument
from bot.common.profiles import sender
from bot.common.replying import split_message

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class AdminChat:
    """The private chat of the admin (or staff member) who sent a command."""

    context: PulseContext
    chat_id: int
    user_id: int
    language: str

    @property
    def services(self) -> Services:
        """The running application's services."""
        return self.context.services

    @property
    def catalog(self) -> Catalog:
        """The language catalog."""
        return self.context.services.catalog

    def text(self, key: str, **params: Any) -> Html:
        """A catalog text in the admin's language."""
        return self.catalog.text(self.language, key, **params)

    async def send(self, text: str) -> None:
        """Sends a message to the admin, in parts at line ends when it is too long for one;
        links stay links, without a preview card."""
        for part in split_message(text):
            await self.context.bot.send_message(
                self.chat_id, part, link_preview_options=_NO_PREVIEW
            )

    async def say(self, key: str, **params: Any) -> None:
        """Sends a catalog text to the admin."""
        await self.send(self.text(key, **params))

    async def usage(self, command: str) -> None:
        """The command's usage line."""
        await self.say(f"admin.usage.{command}")

    async def refuse(self, exc: InvalidArgument, command: str | None) -> None:
        """Why the command was refused, then its usage line (when there is one)."""
        reason = reason_text(self.catalog, self.language, exc)
        usage = self.text(f"admin.usage.{command}") if command else ""
        await self.send(f"{reason}\n{usage}".strip())


def reason_text(catalog: Catalog, language: str, exc: InvalidArgument) -> Html:
    """The reason an argument was refused, with dates and schedule names in the language."""
    params: dict[str, Any] = {}
    for name, value in exc.params.items():
        if isinstance(value, date):
            params[name] = day_text(catalog, language, value)
        elif name == "schedule":
            params[name] = catalog.text(language, f"admin.schedule_name.{value}")
        else:
            params[name] = value
    return catalog.text(language, f"admin.invalid.{exc.reason}", **params)


async def admin_chat(update: Update, context: PulseContext) -> AdminChat:
    """Who sent the command and the language to answer in."""
    profile, telegram_language = sender(update)
    language = await context.services.enrollment.language_of(profile.user_id, telegram_language)
    return AdminChat(context, profile.chat_id, profile.user_id, language)


def raw_arguments(update: Update) -> str:
    """The message text after the command, spacing kept (context.args splits it)."""
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    parts = text.split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""
