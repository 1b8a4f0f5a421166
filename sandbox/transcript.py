"""The sandbox's readable record of the conversation between simulated users and the bot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Direction = Literal["user->bot", "bot->user"]
# The kind of an edit that only took an earlier message's buttons off; its text is that
# message's last line, to say which one.
BUTTONS_REMOVED = "buttons removed"
QUOTE_CHARS = 60


@dataclass(frozen=True)
class TranscriptEvent:
    """One thing said or done in a chat: a message, an edit, a button press, a popup, a block."""

    who: str  # the simulated user, or the group's title for bot messages to a group
    direction: Direction
    text: str
    buttons: list[list[str]] = field(default_factory=list)
    kind: str = "message"  # message, edit, press, popup, photo, document, sticker, block...

    def format(self) -> str:
        """`Alice -> bot: /start`, with further lines and the buttons indented beneath."""
        arrow = f"{self.who} -> bot" if self.direction == "user->bot" else f"bot -> {self.who}"
        if self.kind == BUTTONS_REMOVED:
            quoted = self.text
            if len(quoted) > QUOTE_CHARS:
                quoted = quoted[: QUOTE_CHARS - 1] + "…"
            return f"{arrow} (buttons removed from an earlier message: “{quoted}”)"
        label = "" if self.kind == "message" else f" ({self.kind})"
        head, *rest = self.text.splitlines() or [""]
        lines = [f"{arrow}{label}: {head}", *(f"    {line}" for line in rest)]
        lines.extend("    " + " ".join(f"[{button}]" for button in row) for row in self.buttons)
        return "\n".join(lines)


def format_transcript(events: list[TranscriptEvent]) -> str:
    """The whole conversation as text, one event after another."""
    return "\n".join(event.format() for event in events)
