"""What a conversation asks the bot to say: catalog keys and buttons, never Telegram objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """An inline button: a catalog key for its label and its callback data."""

    label_key: str
    data: str


@dataclass(frozen=True)
class Reply:
    """A message to send in the user's language; `params` are escaped when rendered."""

    key: str
    language: str
    params: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The bot's side of a handled event, computed after the database has committed.

    `replies` go out in order; `notice` is the popup for a press that changed nothing (a
    press that did something is answered by its replies);
    `close_buttons` asks to take the buttons off the message that was pressed, so an
    answered question cannot be answered again.
    """

    replies: tuple[Reply, ...] = ()
    notice: Reply | None = None
    close_buttons: bool = False
