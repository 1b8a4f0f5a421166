"""Turns message text into what a Telegram user sees: plain text plus entities.

Validates `parse_mode=HTML` the way Telegram's parser does, so markup bugs (an unescaped
`<` or `&` from user input, an unclosed tag) fail here as they would in production.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import ApiError, bad_request

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Telegram's supported HTML tags and the entity type each produces.
_TAG_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG = re.compile(r"([A-Za-z][A-Za-z0-9-]*)(.*)", re.DOTALL)
_ATTRIBUTE = re.compile(r"""([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_CHARACTER_REFERENCE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PLAIN_RUN = re.compile(r"[^<&]+")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")


@dataclass(frozen=True)
class ParsedText:
    """Text as Telegram stores it after parsing: what the reader sees and its formatting."""

    plain: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    start: int  # in UTF-16 code units, as Telegram counts entity offsets
    attributes: dict[str, str]


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """Parses text sent with `parse_mode`; raises the 400 Telegram sends for bad markup."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("", "markdown", "markdownv2"):
        # Markdown is not validated: the bot uses HTML throughout.
        return ParsedText(text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def check_length(parsed: ParsedText, *, caption: bool = False) -> None:
    """Refuses empty or over-long text the way Telegram does."""
    if caption:
        if len(parsed.plain) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return
    if not parsed.plain.strip():
        raise bad_request("message text is empty")
    if len(parsed.plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def command_entities(text: str) -> list[dict[str, Any]]:
    """The `bot_command` entity Telegram attaches to a message that starts with /command."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(match.group())}]


def parse_html(text: str) -> ParsedText:
    """Parses Telegram-flavoured HTML into plain text and entities, or raises a 400."""
    pieces: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    position = 0  # UTF-16 offset of the end of `pieces`
    index = 0
    while index < len(text):
        run = _PLAIN_RUN.match(text, index)
        if run is not None:
            pieces.append(run.group())
            position += utf16_length(run.group())
            index = run.end()
        elif text[index] == "&":
            reference = _CHARACTER_REFERENCE.match(text, index)
            if reference is None:
                raise _cannot_parse(
                    f'character "&" at byte offset {_byte_offset(text, index)} must start an '
                    'entity; escape it as "&amp;"'
                )
            character = _decode_reference(reference, text, index)
            pieces.append(character)
            position += utf16_length(character)
            index = reference.end()
        else:
            end = text.find(">", index)
            if end == -1:
                offset = _byte_offset(text, index)
                raise _cannot_parse(f"unclosed start tag at byte offset {offset}")
            tag = text[index + 1 : end]
            if tag.startswith("/"):
                _close_tag(tag[1:].strip().lower(), stack, entities, position, text, index)
            else:
                stack.append(_open_tag(tag, position, text, index))
            index = end + 1
    if stack:
        raise _cannot_parse(f'can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return ParsedText("".join(pieces), entities)


def _open_tag(tag: str, position: int, text: str, index: int) -> _OpenTag:
    match = _TAG.fullmatch(tag)
    name = match.group(1).lower() if match else ""
    if name not in _TAG_ENTITIES:
        raise _cannot_parse(
            f'unsupported start tag "{name}" at byte offset {_byte_offset(text, index)}'
        )
    attributes = {
        key.lower(): html.unescape(next((v for v in values if v), ""))
        for key, *values in _ATTRIBUTE.findall(match.group(2) if match else "")
    }
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise _cannot_parse('tag "span" must have class "tg-spoiler"')
    if name == "tg-emoji" and not attributes.get("emoji-id"):
        raise _cannot_parse('tag "tg-emoji" must have attribute "emoji-id"')
    return _OpenTag(name, position, attributes)


def _close_tag(
    name: str,
    stack: list[_OpenTag],
    entities: list[dict[str, Any]],
    position: int,
    text: str,
    index: int,
) -> None:
    offset = _byte_offset(text, index)
    if not stack:
        raise _cannot_parse(f'unexpected end tag "</{name}>" at byte offset {offset}')
    opened = stack.pop()
    if opened.name != name:
        raise _cannot_parse(
            f'unmatched end tag at byte offset {offset}, expected "</{opened.name}>", '
            f'found "</{name}>"'
        )
    language = opened.attributes.get("class", "").removeprefix("language-")
    if name == "code" and stack and stack[-1].name == "pre" and language:
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        stack[-1].attributes["language"] = language
        return
    length = position - opened.start
    if length == 0:
        return
    entity: dict[str, Any] = {
        "type": _TAG_ENTITIES[name],
        "offset": opened.start,
        "length": length,
    }
    if name == "a":
        if not opened.attributes.get("href"):
            return
        entity["url"] = opened.attributes["href"]
    elif name == "pre" and "language" in opened.attributes:
        entity["language"] = opened.attributes["language"]
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = opened.attributes["emoji-id"]
    elif name == "blockquote" and "expandable" in opened.attributes:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def _decode_reference(reference: re.Match[str], text: str, index: int) -> str:
    named, decimal, hexadecimal = reference.groups()
    if named:
        return _NAMED_REFERENCES[named]
    code_point = int(decimal) if decimal else int(hexadecimal, 16)
    if not 0 < code_point <= 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        raise _cannot_parse(
            f"invalid character reference at byte offset {_byte_offset(text, index)}"
        )
    return chr(code_point)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _cannot_parse(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason[0].upper()}{reason[1:]}")
