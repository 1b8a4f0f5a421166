"""Things going wrong on purpose: injected faults and Telegram's flood limits."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.errors import BLOCKED, ApiError, forbidden, too_many_requests

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
# What a proxy in front of a Bot API server may answer: not JSON, and the request's path
# (`/bot<token>/<method>`) repeated in it.
PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n"
    "<p>The upstream server did not answer POST {path}</p>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Fault:
    """What an injected call does instead of succeeding: wait, fail, or wait and then fail."""

    seconds: float = 0.0
    status: int | None = None
    description: str = ""
    retry_after: int | None = None
    # An error page (HTML, not the Bot API's JSON); "{path}" in it becomes the request's path.
    page: str | None = None
    # A 200 with this `result` in place of the method's own: an answer PTB cannot read.
    result: object = None

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> Fault:
        """A 429 with `parameters.retry_after` (PTB raises `RetryAfter`)."""
        error = too_many_requests(retry_after)
        return cls(status=error.status, description=error.description, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500, description: str | None = None) -> Fault:
        """A 5xx from Telegram's side (PTB raises `NetworkError`)."""
        return cls(status=status, description=description or _REASONS.get(status, "Server Error"))

    @classmethod
    def blocked(cls) -> Fault:
        """A 403 "bot was blocked by the user", whoever the chat is."""
        return cls(status=403, description=forbidden(BLOCKED).description)

    @classmethod
    def error(cls, status: int, description: str) -> Fault:
        """Any other error reply, worded as given ("Bad Request: ...")."""
        return cls(status=status, description=description)

    @classmethod
    def error_page(cls, status: int = 502, page: str | None = None) -> Fault:
        """An error page that repeats the request's path, token and all, as some proxies
        and Bot API emulators send (PTB raises with the page in its message)."""
        reason = _REASONS.get(status, "Bad Request" if status == 400 else "Error")
        template = page or PROXY_PAGE.replace("{status}", str(status)).replace("{reason}", reason)
        return cls(status=status, description=reason, page=template)

    @classmethod
    def answer(cls, result: object) -> Fault:
        """A success whose result is `result`, such as a getMe `User` without `is_bot`."""
        return cls(result=result)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """A slow response: the call waits, then is carried out as usual."""
        return cls(seconds=seconds)

    def refusal(self, path: str = "") -> ApiError | None:
        """The error this fault answers with, if it is not just a delay; `path` is the
        request's, for a description or page that repeats it."""
        if self.status is None:
            return None
        description = self.description.replace("{path}", path)
        page = self.page.replace("{path}", path) if self.page is not None else None
        return ApiError(self.status, description, self.retry_after, page=page)


@dataclass(eq=False)
class Injection:
    """A fault waiting for the calls it applies to; `remaining` None means until cleared."""

    method: str  # lower-case Bot API method name, or "*" for every method
    fault: Fault
    remaining: int | None
    chat_id: int | None = None
    hits: int = 0

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this injection applies to a call of `method` for `chat_id`."""
        return (
            self.remaining != 0
            and self.method in ("*", method.lower())
            and (self.chat_id is None or self.chat_id == chat_id)
        )


class FaultPlan:
    """The injected faults, applied to matching calls in the order they were injected."""

    def __init__(self) -> None:
        self._injections: list[Injection] = []

    def add(self, method: str, fault: Fault, times: int | None, chat_id: int | None) -> Injection:
        """Applies `fault` to the next `times` matching calls (None: every one)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for every call")
        injection = Injection(method.lower(), fault, times, chat_id)
        self._injections.append(injection)
        return injection

    def clear(self) -> None:
        """Removes every injected fault."""
        self._injections.clear()

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        """The fault for this call, if any, counting it against its injection."""
        for injection in self._injections:
            if injection.matches(method, chat_id):
                injection.hits += 1
                if injection.remaining is not None:
                    injection.remaining -= 1
                self._injections = [i for i in self._injections if i.remaining != 0]
                return injection.fault
        return None


@dataclass
class SandboxStats:
    """Counts of what the sandbox did, for tests and benchmarks."""

    requests: int = 0
    rate_limited: int = 0  # calls refused by the enforced flood limits
    faults_injected: int = 0


class RateLimiter:
    """Telegram's flood limits: sliding one-second windows overall and per chat."""

    def __init__(
        self,
        overall_per_second: int = 30,
        per_chat_per_second: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.overall_per_second = overall_per_second
        self.per_chat_per_second = per_chat_per_second
        self._clock = clock
        self._overall: deque[float] = deque()
        self._per_chat: dict[int, deque[float]] = {}

    def check(self, chat_id: int | None) -> None:
        """Raises a 429 if one more message now would exceed a limit."""
        now = self._clock()
        self._forget_before(now - 1.0)
        windows = [(self._overall, self.overall_per_second)]
        if chat_id is not None and chat_id in self._per_chat:
            windows.append((self._per_chat[chat_id], self.per_chat_per_second))
        for window, limit in windows:
            if len(window) >= limit:
                raise too_many_requests(max(1, math.ceil(window[0] + 1.0 - now)))

    def record(self, chat_id: int | None) -> None:
        """Counts a message that was sent."""
        now = self._clock()
        self._overall.append(now)
        if chat_id is not None:
            self._per_chat.setdefault(chat_id, deque()).append(now)

    def _forget_before(self, cutoff: float) -> None:
        while self._overall and self._overall[0] <= cutoff:
            self._overall.popleft()
        for chat_id, window in list(self._per_chat.items()):
            while window and window[0] <= cutoff:
                window.popleft()
            if not window:
                del self._per_chat[chat_id]
