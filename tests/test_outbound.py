"""The outbound path: pacing, per-chat spacing, conversation before bulk, 429s retried.

The limiter is driven directly with a callback standing in for the HTTP call, so the
order and moments of the grants are what is observed. Spacing is checked as a lower bound
between grants (asyncio never wakes early), which does not depend on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter

from bot.sending import retries
from bot.sending.outbound import BULK, OutboundLimiter, Priority


class Recorder:
    """Stands in for the HTTP call: notes which message went out when."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    def call(self, label: str) -> Any:
        async def callback() -> dict[str, Any]:
            self.sent.append((label, time.monotonic()))
            return {"ok": True}

        return callback


async def send(
    limiter: OutboundLimiter,
    recorder: Recorder,
    label: str,
    chat_id: int,
    *,
    bulk: bool = False,
    endpoint: str = "sendMessage",
) -> object:
    return await limiter.process_request(
        recorder.call(label),
        (),
        {},
        endpoint,
        {"chat_id": chat_id},
        BULK if bulk else None,
    )


async def test_messages_are_spaced_evenly_at_the_rate_without_a_burst() -> None:
    limiter = OutboundLimiter(rate=50.0, chat_interval=0.0)
    recorder = Recorder()
    await asyncio.gather(*(send(limiter, recorder, f"m{i}", i) for i in range(15)))
    moments = [at for _, at in recorder.sent]
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    # 1/50 s apart at the least; a small allowance for the clock's resolution.
    assert min(gaps) >= 0.02 - 0.002, gaps
    await limiter.shutdown()


async def test_one_chat_gets_at_most_one_message_per_interval_and_keeps_its_order() -> None:
    limiter = OutboundLimiter(rate=1000.0, chat_interval=0.15)
    recorder = Recorder()
    tasks = [asyncio.create_task(send(limiter, recorder, f"a{i}", 1)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(send(limiter, recorder, "b0", 2)))
    await asyncio.gather(*tasks)
    to_one = [(label, at) for label, at in recorder.sent if label.startswith("a")]
    assert [label for label, _ in to_one] == ["a0", "a1", "a2"]
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(to_one)]
    assert min(gaps) >= 0.15 - 0.002, gaps
    # The other chat did not wait behind the first one's spacing.
    assert [label for label, _ in recorder.sent].index("b0") == 1
    await limiter.shutdown()


async def test_a_conversation_reply_goes_before_the_bulk_sends_waiting() -> None:
    limiter = OutboundLimiter(rate=100.0, chat_interval=0.0)
    recorder = Recorder()
    bulk = [
        asyncio.create_task(send(limiter, recorder, f"bulk{i}", 100 + i, bulk=True))
        for i in range(20)
    ]
    await asyncio.sleep(0.035)  # a few bulk sends are out; most still wait
    reply = asyncio.create_task(send(limiter, recorder, "reply", 1))
    await asyncio.gather(reply, *bulk)
    order = [label for label, _ in recorder.sent]
    position = order.index("reply")
    assert 0 < position < 10, order
    # Bulk keeps its own order around the reply.
    assert [x for x in order if x != "reply"] == [f"bulk{i}" for i in range(20)]
    assert limiter.stats.by_priority == {Priority.CONVERSATION: 1, Priority.BULK: 20}
    await limiter.shutdown()


async def test_a_429_holds_every_slot_and_the_message_is_retried_not_dropped() -> None:
    limiter = OutboundLimiter(rate=1000.0, chat_interval=0.0)
    attempts: list[float] = []

    async def flaky() -> dict[str, Any]:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(timedelta(seconds=0.2))
        return {"ok": True}

    recorder = Recorder()
    first = asyncio.create_task(
        limiter.process_request(flaky, (), {}, "sendMessage", {"chat_id": 1}, None)
    )
    await asyncio.sleep(0.01)
    second = asyncio.create_task(send(limiter, recorder, "other", 2))
    assert await first == {"ok": True}
    await second
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.2 - 0.002
    # The other chat's message waited out the hold as well: Telegram's limit is the bot's.
    assert recorder.sent[0][1] - attempts[0] >= 0.2 - 0.002
    assert limiter.stats.retried_429 == 1
    await limiter.shutdown()


async def test_a_429_that_never_ends_reaches_the_caller_after_the_retries() -> None:
    limiter = OutboundLimiter(rate=1000.0, chat_interval=0.0)
    calls = 0

    async def refused() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        raise RetryAfter(0)

    with pytest.raises(RetryAfter):
        await limiter.process_request(refused, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert calls == retries.SEND.refusals + 1
    await limiter.shutdown()


async def test_calls_that_are_not_messages_pass_at_once() -> None:
    limiter = OutboundLimiter(rate=1.0, chat_interval=10.0)
    recorder = Recorder()
    await send(limiter, recorder, "m", 1)
    started = time.monotonic()
    for i in range(5):
        await send(limiter, recorder, f"q{i}", 1, endpoint="answerCallbackQuery")
    # Five calls inside what would be five seconds of message slots.
    assert time.monotonic() - started < 1.0
    assert limiter.stats.sent == 1
    await limiter.shutdown()


async def test_messages_still_waiting_at_shutdown_fail_as_not_sent() -> None:
    limiter = OutboundLimiter(rate=2.0, chat_interval=0.0)
    recorder = Recorder()
    tasks = [asyncio.create_task(send(limiter, recorder, f"m{i}", i)) for i in range(3)]
    await asyncio.sleep(0.05)
    await limiter.shutdown()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == {"ok": True}
    assert all(isinstance(r, NetworkError) for r in results[1:]), results
