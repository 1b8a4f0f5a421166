"""The update pipeline in the real Application, polling the sandbox over real HTTP.

A recording handler in front of Pulse's own (group -10) sees each update as the pipeline
hands it over and stops it there, so what is observed is the pipeline alone: order per
chat, concurrency across chats, the memory bound, and the inbox.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.app import build_application, running
from bot.common.context import PulseContext
from bot.running.inbox import UpdatePipeline
from sandbox import Sandbox
from tests.process import sandbox_settings

Handler = Callable[[Update], Coroutine[Any, Any, None]]


@asynccontextmanager
async def pipeline_on(
    sandbox: Sandbox, database: Path, handler: Handler, **pipeline: Any
) -> AsyncIterator[UpdatePipeline]:
    """Pulse running against the sandbox with `handler` seeing every update first."""
    config = sandbox_settings(sandbox, database, 1)
    app = build_application(config)

    async def record(update: Update, context: PulseContext) -> None:
        await handler(update)
        raise ApplicationHandlerStop

    app.add_handler(TypeHandler(Update, record), -10)
    async with running(app, poll_timeout=1, **pipeline) as running_pipeline:
        yield running_pipeline


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Waits for something the sandbox is not told about (a database write, say)."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 (the check reads a file; nothing to wait on)
            await asyncio.sleep(0.02)


def text_of(update: Update) -> str:
    assert update.effective_message is not None
    return update.effective_message.text or ""


def inbox_rows(database: Path) -> list[tuple[int, object, object]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute("SELECT update_id, payload, done_at FROM inbox"))


# A customer index and how long handling that message takes (ms), in sending order.
interleavings = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([0, 0, 1, 3, 10])), min_size=1, max_size=40
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=interleavings, started_after=st.integers(0, 40))
def test_each_customers_updates_are_handled_once_in_the_order_sent(
    messages: list[tuple[int, int]], started_after: int
) -> None:
    # Some messages are waiting before the bot starts polling, the rest arrive while it runs.
    async def scenario(database: Path) -> None:
        handled: dict[int, list[str]] = {}

        async def handle(update: Update) -> None:
            text = text_of(update)
            await asyncio.sleep(int(text.split(":")[2]) / 1000)
            assert update.effective_chat is not None
            handled.setdefault(update.effective_chat.id, []).append(text)

        async with Sandbox() as sandbox:
            users = [sandbox.user(100 + i, f"C{i}") for i in range(6)]
            sent: dict[int, list[str]] = {}

            async def send(n: int, who: int, delay: int) -> None:
                text = f"{who}:{n}:{delay}"
                sent.setdefault(users[who].id, []).append(text)
                await users[who].send(text)

            for n, (who, delay) in enumerate(messages[:started_after]):
                await send(n, who, delay)
            async with pipeline_on(sandbox, database, handle) as pipeline:
                for n, (who, delay) in enumerate(messages[started_after:], start=started_after):
                    await send(n, who, delay)
                    if delay:
                        await asyncio.sleep(0)
                await eventually(lambda: pipeline.handled == len(messages))
            assert handled == sent

    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(scenario(Path(directory) / "pulse.db"))


async def test_different_customers_are_handled_side_by_side(tmp_path: Path) -> None:
    in_hand = 0
    most = 0
    release = asyncio.Event()

    async def handle(update: Update) -> None:
        nonlocal in_hand, most
        in_hand += 1
        most = max(most, in_hand)
        await release.wait()
        in_hand -= 1

    async with Sandbox() as sandbox:
        for i in range(12):
            await sandbox.user(100 + i, f"C{i}").send("hello")
        async with pipeline_on(sandbox, tmp_path / "pulse.db", handle) as pipeline:
            await eventually(lambda: in_hand == 12)
            release.set()
            await eventually(lambda: pipeline.handled == 12)
    assert most == 12


async def test_a_slow_handler_keeps_at_most_the_backlog_in_memory(tmp_path: Path) -> None:
    waiting_in_sandbox: list[int] = []
    gate = asyncio.Semaphore(0)

    async def handle(update: Update) -> None:
        await gate.acquire()

    async with Sandbox() as sandbox:
        users = [sandbox.user(100 + i, f"C{i}") for i in range(40)]
        for user in users:
            await user.send("one")
            await user.send("two")
        async with pipeline_on(
            sandbox, tmp_path / "pulse.db", handle, concurrency=4, backlog=10
        ) as pipeline:
            await eventually(lambda: len(inbox_rows(tmp_path / "pulse.db")) >= 10)
            await asyncio.sleep(0.3)  # time for the poller to overreach, if it would
            # The rest stays with Telegram (the sandbox) until there is room.
            assert len(inbox_rows(tmp_path / "pulse.db")) == 10
            assert pipeline.held == 10
            waiting_in_sandbox.append(sandbox.pending_updates)
            for _ in range(80):
                gate.release()
            await eventually(lambda: pipeline.handled == 80)
    assert waiting_in_sandbox[0] > 0


async def test_updates_are_in_the_inbox_before_handled_and_done_after(tmp_path: Path) -> None:
    database = tmp_path / "pulse.db"
    seen_in_inbox: list[bool] = []

    async def handle(update: Update) -> None:
        rows = {row[0]: row for row in inbox_rows(database)}
        row = rows.get(update.update_id)
        seen_in_inbox.append(row is not None and row[1] is not None and row[2] is None)

    async with Sandbox() as sandbox:
        user = sandbox.user(100, "C0")
        async with pipeline_on(sandbox, database, handle) as pipeline:
            for text in ("a", "b", "c"):
                await user.send(text)
            await eventually(lambda: pipeline.handled == 3)
    assert seen_in_inbox == [True, True, True]
    rows = inbox_rows(database)
    # Once handled, only the id is kept: the customer's words are not left in the inbox.
    assert len(rows) == 3
    assert all(payload is None and done is not None for _, payload, done in rows)
