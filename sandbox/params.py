"""Reads a Bot API call's parameters from the query string and a form, multipart or JSON body.

PTB sends every value as a form string, with nested values (reply_markup, scope) JSON-encoded;
`Params` converts on access so methods read typed values whatever the encoding was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.errors import bad_request

MAX_BODY_BYTES = 50 * 1024 * 1024  # Telegram's upload limit for bots


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    mime_type: str | None


class Params:
    """The parameters of one call, with typed accessors that refuse bad values with a 400."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        """A string parameter, or None when absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str) -> int | None:
        """An integer parameter, or None when absent."""
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def required_integer(self, name: str) -> int:
        """An integer parameter that Telegram requires ("chat_id is empty" when missing)."""
        value = self.integer(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def number(self, name: str, default: float) -> float:
        """A numeric parameter such as a timeout."""
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """A boolean parameter; absent means False."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def json(self, name: str) -> Any:
        """A JSON-serialized parameter (an object or list); None when absent."""
        value = self.values.get(name)
        if not isinstance(value, str | bytes):
            return value
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def file(self, name: str) -> UploadedFile | str | None:
        """An uploaded file, resolving `attach://` names; a string is a file_id or URL."""
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.values.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile | str) or value is None:
            return value or None
        if isinstance(value, bytes):
            return UploadedFile(value, None, None)
        raise bad_request(f"invalid {name} specified")


async def read_params(request: web.Request) -> Params:
    """Collects the query string and body of a request into `Params`."""
    values: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse request JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse request JSON object")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                values[key] = UploadedFile(value.file.read(), value.filename, value.content_type)
            else:
                values[key] = value
    return Params(values)
