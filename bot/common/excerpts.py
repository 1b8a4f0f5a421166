"""Short excerpts of what people wrote: the quotes in digests and follow-ups, and the few
characters of a user's input that a refusal repeats back."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# A refusal repeats at most this much of what was typed: enough to recognise it, never a
# wall of text (or past Telegram's message limit).
ECHO_CHARS = 40
# Quotes (a digest theme's, a /privacy answer's) are cut to this many characters, so a
# digest stays scannable on a phone.
QUOTE_CHARS = 120

_WHITESPACE = re.compile(r"\s+")
_TRAILING_PUNCTUATION = ",;:.!?-–—(\"'"


def trim_quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` with its whitespace collapsed, cut at a word boundary to at most `limit`
    characters with "…" when it is longer; nothing else in it changes."""
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS) + 1]
    cut = head.rfind(" ")
    # One endless word (a URL, say) has no boundary to cut at: cut it where it overflows.
    head = head[:cut] if cut > 0 else head[:-1]
    return head.rstrip(_TRAILING_PUNCTUATION + " ") + ELLIPSIS


def echo(typed: str) -> str:
    """What a refusal may repeat of `typed`: a short excerpt (escaped later, as every
    parameter of a catalog text is)."""
    return trim_quote(typed, ECHO_CHARS)
