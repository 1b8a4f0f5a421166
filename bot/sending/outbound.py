"""The one outbound path: every message the bot sends is paced, prioritised and retried here.

PTB hands each Bot API call to this rate limiter. Calls that put a message in a chat get a
slot: slots are spaced evenly at the overall rate (no per-second bursts, which a strict
server refuses), a chat gets at most one message per `chat_interval`, and replies inside
a conversation take the next free slot before any bulk send (invitations, reminders) that
is waiting.

No one-second window at Telegram holds more than the rate, however unevenly the messages
travel. Spacing alone (even with room to spare) only makes that likely: with slots 3 %
further apart than the rate, a strict server still refused 5 to 7 messages in a round of
10,000 (some arrived closer together than they left). So the window is kept by the
answers: Telegram counts a message at some moment between our sending it and our having
its answer, and a message goes out only a second after the one `rate` messages before it
was answered. That alone would cost a whole round trip per second (30 / 1.06 s = 28.3
messages/s at 50 ms, measured); half of the quickest recent round trip is taken back, on
the one assumption that the two legs of a round trip, there and back, take at least that
much together: the server does not spend more than half of the quickest round trip on a
message after counting it. A call that hangs holds the messages `rate` after it until it
ends (in a timeout at the latest): until then nobody knows when it was counted.

A 429 holds every slot for its `retry_after` and the call is tried again, so nothing is
dropped; a 5xx or a network error is tried again after a backoff (`bot.sending.retries`). A
refusal or a timeout (the message may have arrived) reaches the caller. Other calls
(getUpdates, answerCallbackQuery, getMe, ...) pass at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.sending import retries

log = logging.getLogger(__name__)

# Bot API methods that put (or change) a message in a chat and so count against the limits.
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
# Telegram allows about 30 messages a second overall and about one a second per chat.
DEFAULT_RATE = 30.0
DEFAULT_CHAT_INTERVAL = 1.0
# A message reaches Telegram a few milliseconds after its slot, and not always equally
# late, so two messages to a chat spaced exactly at the limit are now and then closer than
# it when they arrive, and a strict server refuses the second: a chat's spacing is this
# share longer than `chat_interval`.
CHAT_ALLOWANCE = 0.05
# The same for the overall rate: slots are this share further apart than `1 / rate`. (The
# one-second window is kept by the answers, see above, not by this.)
RATE_ALLOWANCE = 0.03
# Rates above this are not Telegram's (tests, benchmarks of the pipeline): only the
# spacing applies, no one-second window is kept.
WINDOW_LIMIT = 1000


class Priority(IntEnum):
    """Lower goes first."""

    CONVERSATION = 0
    BULK = 1


# Pass as `rate_limit_args` on a bot call to mark it as a bulk send.
BULK: dict[str, Any] = {"priority": Priority.BULK}


@dataclass
class _Sent:
    """A granted message; `answered_at` is set once its call returned or failed."""

    granted_at: float
    answered_at: float | None = None


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    chat_id: int | None = field(compare=False)
    granted: asyncio.Future[_Sent] = field(compare=False)


@dataclass
class OutboundStats:
    """What went out, for logs and benchmarks."""

    sent: int = 0
    retried_429: int = 0
    retried_errors: int = 0  # 5xx and network errors tried again
    by_priority: dict[Priority, int] = field(default_factory=lambda: dict.fromkeys(Priority, 0))
    # By Bot API method and priority, for /metrics.
    sent_by: Counter[tuple[str, Priority]] = field(default_factory=Counter)


class OutboundLimiter(BaseRateLimiter[dict[str, Any]]):
    """Grants message slots evenly, conversation before bulk, one per chat per interval."""

    def __init__(
        self,
        rate: float = DEFAULT_RATE,
        chat_interval: float = DEFAULT_CHAT_INTERVAL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self.stats = OutboundStats()
        self._now = now
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._next_slot = 0.0
        self._sent: deque[_Sent] = deque(maxlen=WINDOW_LIMIT)
        self._chat_next: dict[int, float] = {}
        self._arrived = asyncio.Event()
        self._granter: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Messages waiting for their slot."""
        return len(self._waiting)

    async def initialize(self) -> None:
        """Nothing to open: the granter starts with the first message."""

    async def shutdown(self) -> None:
        if self._granter is not None:
            self._granter.cancel()
            await asyncio.gather(self._granter, return_exceptions=True)
            self._granter = None
        for waiter in self._waiting:
            if not waiter.granted.done():
                # A network error, not a cancellation: callers treat it as "not sent, try
                # again later" (the sender keeps the invitation queued).
                waiter.granted.set_exception(NetworkError("the bot is shutting down"))
        self._waiting.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in MESSAGE_ENDPOINTS:
            return await callback(*args, **kwargs)
        priority = Priority((rate_limit_args or {}).get("priority", Priority.CONVERSATION))
        chat_id = _chat_id(data.get("chat_id"))
        policy = retries.BULK if priority is Priority.BULK else retries.SEND
        refused = 0  # 429s
        failures = 0  # passing failures: 5xx and network errors
        while True:
            sent = await self.slot(priority, chat_id)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                refused += 1
                seconds = retries.retry_after_seconds(exc)
                self.stats.retried_429 += 1
                log.warning("Telegram asked to wait %.1f s (%s)", seconds, endpoint)
                self.hold(seconds)
                if refused > policy.refusals:
                    raise
                continue
            except NetworkError as exc:
                # A refusal (400) or a timeout (it may have arrived) is the caller's to
                # handle; a 5xx or a connection that failed is tried again here.
                failures += 1
                delay = policy.delay(exc, failures)
                if delay is None:
                    raise
                self.stats.retried_errors += 1
                log.warning("%s failed (%s); trying again in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
                continue
            finally:
                self._answered(sent)
            self.stats.sent += 1
            self.stats.by_priority[priority] += 1
            self.stats.sent_by[endpoint, priority] += 1
            return result

    async def slot(self, priority: Priority, chat_id: int | None) -> _Sent:
        """Returns when a message of this priority to this chat may go out; pass what it
        returns to `_answered` once the call is over."""
        moment = self._now()
        if not self._waiting and self._free(chat_id, moment):
            # Nobody waiting and the slot open: granted here, without a turn of the event
            # loop for the granter (the common case when the bot is not sending a round).
            return self._record(chat_id, moment)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(priority, next(self._seq), chat_id, loop.create_future())
        heapq.heappush(self._waiting, waiter)
        self._arrived.set()
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant_forever(), name="outbound:granter")
        try:
            return await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
                heapq.heapify(self._waiting)
            elif waiter.granted.done() and not waiter.granted.cancelled():
                self._answered(waiter.granted.result())  # granted, then never sent
            raise

    def _answered(self, sent: _Sent) -> None:
        sent.answered_at = self._now()
        self._arrived.set()  # the granter may be waiting for this answer

    def hold(self, seconds: float) -> None:
        """Pushes every later slot back (Telegram said 429: retry after)."""
        self._next_slot = max(self._next_slot, self._now() + seconds)

    async def _grant_forever(self) -> None:
        while True:
            if not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            moment = self._now()
            opens = self._opens_at()
            if opens == math.inf:
                # The message `rate` before the next is still out: wait for its answer.
                self._arrived.clear()
                await self._arrived.wait()
                continue
            if moment < opens:
                await asyncio.sleep(opens - moment)
                continue
            waiter, ready_at = self._first_ready(moment)
            if waiter is None:
                # Everyone waiting wants a chat that had a message just now.
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), ready_at - moment)
                continue
            self._grant(waiter, moment)

    def _opens_at(self) -> float:
        """The earliest moment of the next slot, whatever the chat (inf: not yet known)."""
        window = int(self.rate)
        if 0 < window <= WINDOW_LIMIT and len(self._sent) >= window:
            # Telegram counted the message `window` back at the latest when we had its
            # answer, and counts the next at the earliest when we send it.
            answered = self._sent[-window].answered_at
            if answered is None:
                return math.inf
            return max(self._next_slot, answered + 1.0 - self._quickest(window) / 2)
        return self._next_slot

    def _quickest(self, count: int) -> float:
        """The quickest round trip (grant to answer) of the last `count` messages answered."""
        trips = [
            sent.answered_at - sent.granted_at
            for sent in itertools.islice(reversed(self._sent), count)
            if sent.answered_at is not None
        ]
        return max(0.0, min(trips, default=0.0))

    def _first_ready(self, moment: float) -> tuple[_Waiter | None, float]:
        """The first waiter by priority and arrival whose chat may have a message now."""
        earliest = float("inf")
        for waiter in sorted(self._waiting):
            if waiter.granted.done():
                continue
            ready_at = self._chat_next.get(waiter.chat_id, 0.0) if waiter.chat_id else 0.0
            if ready_at <= moment:
                return waiter, moment
            earliest = min(earliest, ready_at)
        return None, earliest

    def _free(self, chat_id: int | None, moment: float) -> bool:
        """Whether a message to this chat may go out at `moment`."""
        chat_ready = chat_id is None or self._chat_next.get(chat_id, 0.0) <= moment
        return chat_ready and self._opens_at() <= moment

    def _grant(self, waiter: _Waiter, moment: float) -> None:
        self._waiting.remove(waiter)
        heapq.heapify(self._waiting)
        if waiter.granted.done():
            return  # cancelled while waiting
        waiter.granted.set_result(self._record(waiter.chat_id, moment))

    def _record(self, chat_id: int | None, moment: float) -> _Sent:
        """Takes the slot at `moment` for a message to this chat."""
        sent = _Sent(moment)
        # Kept to the schedule when this grant came a little late (a busy event loop), or
        # the lateness would add up to a lower rate: the next slot may then be a little
        # closer, but the one-second window still holds. After an idle spell the schedule
        # starts again from now rather than catching up.
        spacing = (1.0 + RATE_ALLOWANCE) / self.rate
        closest = (1.0 - RATE_ALLOWANCE) / self.rate
        self._next_slot = max(self._next_slot + spacing, moment + closest)
        self._sent.append(sent)
        if chat_id is not None:
            self._chat_next[chat_id] = moment + self.chat_interval * (1 + CHAT_ALLOWANCE)
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > moment}
        return sent


def _chat_id(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None  # an @channel username; Pulse talks only in private chats
