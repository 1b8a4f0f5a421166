"""The HTTP transport to the Bot API: PTB's `BaseRequest` over an aiohttp client session.

PTB's own transport (httpx) cost 3.4 ms of CPU per call with 32 calls in flight on a pool
of 32, aiohttp 0.33 ms (measured on this project's 2-core machine against a local server,
see bench/README.md); at two or three calls per answer that was most of what an answer
cost. aiohttp is already a dependency (the sandbox's server).

A timeout is told apart the way the senders need it (bot/sending/delivery.py and
bot/sending/retries.py): waiting for a free connection or for the connection itself means the
request never left,
a `NetworkError` to try again; a timeout once the request went out is `TimedOut`, since
Telegram may have acted on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's defaults for its own transport, kept so that behaviour does not change with it.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


@dataclass
class ApiContact:
    """When the Bot API last answered, and when a call last failed to get an answer, on
    the process's monotonic clock: what /healthz tells of the way to Telegram.

    Any HTTP answer below 500 counts as contact (a 400 is Telegram answering) but a
    refused token; a 5xx, a timeout or a failed connection is a failure."""

    now: Callable[[], float] = field(default=time.monotonic, repr=False)
    last_answer: float | None = None
    last_failure: float | None = None
    # The first failure since the last answer: how long calls have been failing.
    failing_since: float | None = None

    def answered(self, status: int) -> None:
        """Notes an HTTP answer; a refused token (401, 404) or a server error is a failure."""
        if status < 500 and status not in (401, 404):
            self.last_answer = self.now()
            self.failing_since = None
        else:
            self.failed()

    def failed(self) -> None:
        """Notes a call that got no answer."""
        self.last_failure = self.now()
        if self.failing_since is None:
            self.failing_since = self.last_failure


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session with a pool of `connection_pool_size`."""

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        pool_timeout: float = POOL_TIMEOUT,
        media_write_timeout: float = MEDIA_WRITE_TIMEOUT,
        contact: ApiContact | None = None,
    ) -> None:
        self._pool_size = connection_pool_size
        self.contact = contact or ApiContact()
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Created here, not in __init__: a session belongs to the running event loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0),
                headers={"User-Agent": self.USER_AGENT},
                # Telegram's answers are JSON we parse ourselves; no cookies to keep.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        # PTB's own annotation (ODVInput) lives in a private module; `object` admits it.
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data is not None and request_data.contains_files
        pool = _given(pool_timeout, self._pool_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        read = _given(read_timeout, self._read_timeout)
        # aiohttp has no write timeout of its own: the write counts toward the read, which
        # starts when the request is sent.
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            # Waiting for a free connection and opening one both count as `connect`.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=None if read is None or write is None else read + write,
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                answer = response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            self.contact.failed()
            # No connection in time: the request was not sent, so it may be sent again.
            raise NetworkError(f"aiohttp: no connection to the Bot API in time: {exc}") from exc
        except TimeoutError as exc:
            self.contact.failed()
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            self.contact.failed()
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        self.contact.answered(answer[0])
        return answer


def _given(value: object, default: float) -> float | None:
    """A timeout PTB passed: its default marker means ours; None means no limit."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"a timeout is a number of seconds or None, not {value!r}")


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """A form as PTB's own transport sends it: urlencoded, or multipart with files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
