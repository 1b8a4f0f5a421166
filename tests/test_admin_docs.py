"""The docs match the code: the README's command tables list exactly the bot's commands."""

from __future__ import annotations

import re
from pathlib import Path

from telegram.ext import CommandHandler

from bot.common.context import PulseApplication

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_commands() -> set[str]:
    """Every `/command` named in the first column of the README's bot command tables."""
    section = README.read_text(encoding="utf-8").split("## Commands", 1)[1]
    bot_part = section.split("Command line:", 1)[0]
    names: set[str] = set()
    for line in bot_part.splitlines():
        if line.startswith("| `/"):
            first_cell = re.split(r"(?<!\\)\|", line)[1]
            names.update(re.findall(r"`/([a-z_]+)", first_cell))
    return names


def test_the_readme_command_tables_list_exactly_the_registered_commands(
    app: PulseApplication,
) -> None:
    registered = {
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert documented_commands() == registered


def test_every_file_the_readme_links_to_is_in_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    linked = re.findall(r"\]\((?!https?://|#)([^)\s]+)\)", text)
    assert "docs/DESIGN.md" in linked
    for target in linked:
        path = (README.parent / target).resolve()
        assert path.is_relative_to(README.parent), target  # nothing outside the repository
        assert path.exists(), target
    assert "../" not in text
