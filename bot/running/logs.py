"""Logging set-up: readable lines or one JSON object per line, with the bot token redacted
from every record however it got there."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from storage import effects

MASK = "[REDACTED]"


def redact(text: str, token: str) -> str:
    """`text` with the token replaced by [REDACTED] in whatever form it got there.

    As written, URL-quoted (`%3A` or `%3a`), or in another case: PTB writes a "Bad Request:
    ..." description in lower case, so a server that repeats the request path gives
    `/bot123:abc.../getme`. The secret after the colon alone is masked too, for any other
    way the two halves come apart; it is letters, digits, `-` and `_`, which no quoting
    changes.
    """
    _, _, secret = token.partition(":")
    forms = sorted({token, quote(token, safe=""), secret} - {""}, key=len, reverse=True)
    if not forms:
        return text
    pattern = "|".join(re.escape(form) for form in forms)
    return re.sub(pattern, MASK, text, flags=re.IGNORECASE)


class TokenRedactingFilter(logging.Filter):
    """Replaces the token in messages and tracebacks (request URLs carry it)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def _redact(self, text: str) -> str:
        return redact(text, self._token)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites the record in place; never drops it."""
        message = record.getMessage()
        record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LogFormat = Literal["text", "json"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for a log collector: time (ISO 8601, UTC), level, logger,
    message, the update and chat being handled when there is one, and the exception.

    It formats what the record holds after the handler's filters, so the token is already
    masked in the message and the traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Set by the update pipeline around each update, so every line written while one is
        # handled (by Pulse or by a library) says which; never set in jobs.
        current = effects.handling.get()
        if current is not None:
            entry["update_id"] = current.update_id
            if current.chat_id is not None:
                entry["chat_id"] = current.chat_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, token: str, log_format: LogFormat = "text") -> None:
    """Logs to stderr at `level` in `log_format`, with the token redacted, and without the
    libraries' lines that carry request URLs or message contents."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(TokenRedactingFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # PTB logs every Bot API call's parameters and result, and every update, at DEBUG:
    # customers' names, handles and answers. Pulse's own lines carry ids only.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    # httpx logs every request URL at INFO, and the URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # PTB logs an answer it cannot read (an error page) with a traceback, then raises an
    # error that carries the same page; Pulse logs or prints that error once, in one line.
    logging.getLogger("telegram.request").setLevel(logging.CRITICAL)
