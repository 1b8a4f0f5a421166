"""The sandbox reads Telegram-flavoured HTML as Telegram does: what users see, what it refuses."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.entities import command_entities, parse_html
from sandbox.errors import ApiError


def test_tags_become_entities_with_utf16_offsets() -> None:
    parsed = parse_html("🙂 <b>bold <i>both</i></b> <a href='https://x.org/?a=1&amp;b=2'>link</a>")

    assert parsed.plain == "🙂 bold both link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.org/?a=1&b=2"},
    ]


def test_a_code_block_carries_its_language() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')

    assert parsed.entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_spoilers_quotes_and_custom_emoji_are_supported() -> None:
    parsed = parse_html(
        '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>'
        '<blockquote expandable>c</blockquote><tg-emoji emoji-id="5">👍</tg-emoji>'
    )

    assert [e["type"] for e in parsed.entities] == [
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "custom_emoji",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>open", "Can't find end tag"),
        ("<b>x</i>", 'expected "</b>", found "</i>"'),
        ("a <br> b", 'Unsupported start tag "br"'),
        ("a < b", "Unclosed start tag"),
        ("a < b > c", 'Unsupported start tag ""'),
        ("Tom & Jerry", 'must start an entity; escape it as "&amp;"'),
        ("&nbsp;", "must start an entity"),
        ("&#0;", "Invalid character reference"),
    ],
)
def test_malformed_markup_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities") as refused:
        parse_html(text)

    assert reason in refused.value.description
    assert refused.value.status == 400


@given(st.text())
def test_escaped_text_always_parses_back_to_itself(text: str) -> None:
    assert parse_html(html.escape(text)).plain == text


def test_only_a_leading_command_is_a_command() -> None:
    assert command_entities("/start@pulse_bot abc") == [
        {"type": "bot_command", "offset": 0, "length": 16}
    ]
    assert command_entities("say /start") == []
    assert command_entities("/") == []
