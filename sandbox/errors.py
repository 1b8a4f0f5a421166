"""The Bot API's error replies, as the sandbox raises them internally.

The server turns an `ApiError` into Telegram's envelope `{"ok": false, "error_code", ...}`.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API call that Telegram would refuse, with the status and description it sends."""

    def __init__(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        *,
        page: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        # Sent as the body instead of the envelope: an injected proxy's error page.
        self.page = page

    def envelope(self) -> dict[str, Any]:
        """Returns the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    """A 400, worded as Telegram words it ("Bad Request: chat not found")."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403, worded as Telegram words it ("Forbidden: bot was blocked by the user")."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 carrying `parameters.retry_after`, which PTB raises as `RetryAfter`."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


BLOCKED = "bot was blocked by the user"
NOT_STARTED = "bot can't initiate conversation with a user"
CHAT_NOT_FOUND = "chat not found"
