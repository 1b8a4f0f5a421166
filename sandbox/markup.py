"""Checks keyboards (reply_markup) the way Telegram does and finds buttons on them."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request

JSON = dict[str, Any]

MAX_CALLBACK_DATA_BYTES = 64
# An inline button needs exactly one of these to do something when pressed.
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "login_url",
    "callback_game",
    "pay",
)
_URL_SCHEMES = ("http://", "https://", "tg://")


def check_reply_markup(markup: object) -> JSON | None:
    """Returns a valid reply_markup, or raises the 400 Telegram sends for it."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup["inline_keyboard"]):
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        for row in _rows(markup["keyboard"]):
            for button in row:
                if not _label(button):
                    raise bad_request("can't parse keyboard button: Text must be non-empty")
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def check_inline_markup(markup: object) -> JSON | None:
    """Like `check_reply_markup`, for edits, which accept only inline keyboards."""
    checked = check_reply_markup(markup)
    if checked is not None and "inline_keyboard" not in checked:
        raise bad_request("inline keyboard expected")
    return checked


def find_inline_button(markup: JSON | None, label: str) -> JSON | None:
    """The inline button with this label, if the keyboard has one."""
    for row in (markup or {}).get("inline_keyboard") or []:
        for button in row:
            if button.get("text") == label:
                return dict(button)
    return None


def reply_keyboard_labels(markup: JSON | None) -> list[str] | None:
    """The labels of a reply keyboard; [] if the markup removes it; None if it leaves it be."""
    if not markup:
        return None
    if "keyboard" in markup:
        return [_label(button) for row in markup["keyboard"] for button in row]
    if markup.get("remove_keyboard"):
        return []
    return None


def _rows(rows: object) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return rows


def _label(button: object) -> str:
    if isinstance(button, str):
        return button
    if isinstance(button, dict) and isinstance(button.get("text"), str):
        return str(button["text"])
    return ""


def _check_inline_button(button: object) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    if not any(action in button for action in _INLINE_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(_URL_SCHEMES):
        raise bad_request("BUTTON_URL_INVALID")
