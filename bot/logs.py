"""Logging set-up, with the bot token redacted from every record however it got there."""

from __future__ import annotations

import logging
from urllib.parse import quote


def redact(text: str, token: str) -> str:
    """`text` with the token, as written or URL-quoted, replaced by [REDACTED]."""
    for form in {token, quote(token, safe="")}:
        if form:
            text = text.replace(form, "[REDACTED]")
    return text


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


def configure_logging(level: str, token: str) -> None:
    """Logs to stderr at `level`, with the token redacted, and without the libraries' lines
    that carry request URLs or message contents."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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
