"""The check-in questions admins may reword, and how a wording enters the catalog's texts.

Each question's wording is the bold part of the catalog texts that ask it ("<b>How are
things going with us?</b>"); a new wording replaces only that part, so the greeting and
the hint around it stay the translator's.
"""

from __future__ import annotations

import html
import re

from bot.common.parsing import InvalidArgument, WrongUsage

QUESTIONS = ("score", "challenge", "improvement", "contact")
# The catalog texts that ask each question (the score question opens the check-in and
# is repeated by its reminder).
TEXTS = {
    "score": ("checkin.invite", "checkin.reminder"),
    "challenge": ("checkin.ask_challenge",),
    "improvement": ("checkin.ask_improvement",),
    "contact": ("checkin.ask_contact",),
}
LANGUAGE_NAMES = ("nl", "en")
MAX_CHARS = 300
_BOLD = re.compile(r"<b>(.*?)</b>", re.DOTALL)


class NotAQuestionText(ValueError):
    """A catalog text that should ask a question has no single bold part to reword."""


def _bold(template: str) -> re.Match[str]:
    found = list(_BOLD.finditer(template))
    if len(found) != 1:
        raise NotAQuestionText(template)
    return found[0]


def default_wording(template: str) -> str:
    """The question as the catalog text words it (its bold part), as plain text."""
    return html.unescape(_bold(template)[1])


def reworded(template: str, wording: str) -> str:
    """The catalog text with its question worded as `wording` (plain text, escaped here)."""
    match = _bold(template)
    # The result is a template again: braces in the wording must stay braces.
    safe = html.escape(wording, quote=False).replace("{", "{{").replace("}", "}}")
    return f"{template[: match.start(1)]}{safe}{template[match.end(1) :]}"


def parse_question(text: str) -> str:
    """A question's name, or its number 1 to 4 in the check-in."""
    name = text.strip().lower()
    if name.isdecimal() and 1 <= int(name) <= len(QUESTIONS):
        return QUESTIONS[int(name) - 1]
    if name not in QUESTIONS:
        raise InvalidArgument("question", value=text)
    return name


def parse_set(args: list[str], raw_text: str) -> tuple[str, str, str]:
    """`set <question> <nl|en> <text>`: the question, the language and the new wording.

    `raw_text` is the message after the command, so the wording keeps its own spacing.
    """
    if len(args) < 4 or args[0].lower() != "set":
        raise WrongUsage(args)
    question = parse_question(args[1])
    language = args[2].lower()
    if language not in LANGUAGE_NAMES:
        raise InvalidArgument("language", value=args[2])
    parts = raw_text.strip().split(maxsplit=3)
    wording = " ".join(parts[3].split()) if len(parts) == 4 else ""
    if not wording:
        raise WrongUsage(args)
    if len(wording) > MAX_CHARS:
        raise InvalidArgument("too_long", limit=MAX_CHARS, length=len(wording))
    return question, language, wording


def parse_reset(args: list[str]) -> str | None:
    """`reset` (every question) or `reset <question>`: the question, or None for all."""
    if not args or args[0].lower() != "reset" or len(args) > 2:
        raise WrongUsage(args)
    return parse_question(args[1]) if len(args) == 2 else None
