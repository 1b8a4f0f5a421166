"""The update pipeline: durable inbox, then each chat's updates in order, chats side by side.

PTB's own poller confirms updates to Telegram before they are handled and queues them in
memory without a bound, so a crash loses whatever was queued. Here every `getUpdates`
response is written to the inbox table in one transaction before the next poll confirms
it, and a webhook's update before its 200 (`receive`); updates are handled from there by
one worker per chat (so a customer's answers apply in the order given) under a global
concurrency limit, and marked done in batches. After a crash the open ones are handled
again; `Database.write_once` (`storage.effects`) makes sure an answer committed the first
time is not committed twice, and an update Telegram sends again is recorded, and handled,
once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from functools import partial

from telegram import Update
from telegram.error import TelegramError

from bot.clock import Clock, epoch
from bot.common.context import PulseApplication
from bot.sending import retries
from storage import effects, inbox
from storage.db import Database
from storage.inbox import Received

log = logging.getLogger(__name__)

# Updates handled at once (different chats). Measured: concurrency pays only with a round
# trip, and only with the HTTP pool sized to match (see docs/DESIGN.md, "Lessons"). At
# 50 ms an update holds its slot for about a round trip, so 32 capped bench.answers at
# about 300 updates/s; 128 (on aiohttp) reaches the CPU's limit, and 0 ms is unchanged.
CONCURRENCY = 128
# Updates held in memory at most; beyond it the poller waits (Telegram keeps the rest).
BACKLOG = 1000
# Handled updates are marked done in one write per this many seconds.
DONE_FLUSH_SECONDS = 0.05
MAX_PER_POLL = 100  # Telegram's most per getUpdates
REPLAY_PAGE = 500


def chat_key(update: Update) -> int | None:
    """The chat whose updates must keep their order; None when there is none."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class UpdatePipeline:
    """Polls Telegram into the inbox and hands updates to the application, chat by chat."""

    def __init__(
        self,
        app: PulseApplication,
        db: Database,
        clock: Clock,
        *,
        allowed_updates: Sequence[str],
        poll_timeout: int = 10,
        concurrency: int = CONCURRENCY,
        backlog: int = BACKLOG,
    ) -> None:
        self._app = app
        self._db = db
        self._clock = clock
        self._allowed = list(allowed_updates)
        self._poll_timeout = poll_timeout
        self._backlog = backlog
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[int | tuple[str, int], deque[Update]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._held = 0  # updates admitted and not yet handled
        self._room = asyncio.Event()
        self._done: list[int] = []
        self._done_ready = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.received = 0  # updates recorded in the inbox (a second delivery not counted)
        self.handled = 0
        # When getUpdates last answered (time.monotonic), for /healthz; None by webhook.
        self.last_poll: float | None = None

    async def start(self, *, poll: bool = True) -> None:
        """Handles what a previous run left open, then polls in the background.

        Without `poll` the updates come by webhook: what was left open is admitted before
        this returns, so an update Telegram sends again meanwhile is recognised as known.
        """
        self._flusher = asyncio.create_task(self._flush_forever(), name="inbox:done")
        if poll:
            self._poller = asyncio.create_task(self._poll_forever(), name="inbox:poll")
        else:
            await self._replay()

    async def receive(self, update: Update) -> bool:
        """Records one update delivered by webhook, then hands it on; False when it was
        recorded before (Telegram sent it again), and so is not handled again.

        Returns once the update is committed: only then may the webhook answer 200.
        """
        await self._wait_for_room()
        received = Received(update.update_id, chat_key(update), json.dumps(update.to_dict()))
        stored = await self._db.write(
            partial(inbox.record, updates=[received], now=epoch(self._clock.now()))
        )
        if not stored:
            return False
        self.received += 1
        self._admit(update)
        return True

    async def stop(self, grace: float = 10.0) -> None:
        """Stops polling, lets the updates in hand finish (up to `grace` s), records them."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._workers:
            _, pending = await asyncio.wait(set(self._workers), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._flush()

    @property
    def held(self) -> int:
        """Updates taken from Telegram (or the inbox) and not yet handled."""
        return self._held

    @property
    def failed(self) -> BaseException | None:
        """Why polling stopped for good (a revoked token, say), or None while it runs."""
        if self._poller is None or not self._poller.done() or self._poller.cancelled():
            return None
        return self._poller.exception()

    async def _poll_forever(self) -> None:
        offset = await self._replay()
        failures = 0
        while True:
            await self._wait_for_room()
            try:
                updates = await self._app.bot.get_updates(
                    offset=offset,
                    # Never more than there is room for: the rest waits at Telegram.
                    limit=min(MAX_PER_POLL, self._backlog - self._held),
                    timeout=self._poll_timeout,
                    allowed_updates=self._allowed,
                )
            except TelegramError as exc:
                # A 429 waits its retry_after, 5xx and network errors back off for ever,
                # and Conflict (another process polls with this token) is waited out,
                # loudly. Only a bad token or a refusal ends polling.
                failures += 1
                delay = retries.POLL.delay(exc, failures)
                if delay is None:
                    raise
                log.warning("getUpdates failed (%s); trying again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self.last_poll = time.monotonic()
            if not updates:
                continue
            received = [
                Received(u.update_id, chat_key(u), json.dumps(u.to_dict())) for u in updates
            ]
            self.received += await self._db.write(
                partial(inbox.record, updates=received, now=epoch(self._clock.now()))
            )
            # Only now may the next poll confirm them.
            offset = updates[-1].update_id + 1
            for update in updates:
                self._admit(update)

    async def _replay(self) -> int | None:
        """Admits the updates recorded but not handled before; returns the next offset."""
        after = 0
        replayed = 0
        while True:
            page = await self._db.read(partial(inbox.open_updates, after=after, limit=REPLAY_PAGE))
            for received in page:
                await self._wait_for_room()
                update = Update.de_json(json.loads(received.payload), self._app.bot)
                self._admit(update)
            replayed += len(page)
            if len(page) < REPLAY_PAGE:
                break
            after = page[-1].update_id
        if replayed:
            log.warning("%d update(s) left open by the last run are handled now", replayed)
        last = await self._db.read(inbox.last_update_id)
        return None if last is None else last + 1

    async def _wait_for_room(self) -> None:
        while self._held >= self._backlog:
            self._room.clear()
            await self._room.wait()

    def _admit(self, update: Update) -> None:
        key: int | tuple[str, int] = chat_key(update) or ("update", update.update_id)
        self._held += 1
        queue = self._chats.get(key)
        if queue is not None:
            queue.append(update)  # its worker is running and takes it in turn
            return
        self._chats[key] = deque([update])
        task = asyncio.create_task(self._work(key), name=f"inbox:chat:{key}")
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _work(self, key: int | tuple[str, int]) -> None:
        queue = self._chats[key]
        try:
            while queue:
                update = queue[0]
                async with self._slots:
                    await self._handle(update)
                queue.popleft()
                self._held -= 1
                self._room.set()
                self._done.append(update.update_id)
                self._done_ready.set()
        finally:
            # No await between the last check and this: nothing can be appended unseen.
            del self._chats[key]

    async def _handle(self, update: Update) -> None:
        chat = update.effective_chat
        # Started now by the pipeline's clock: the time its effect is claimed at.
        token = effects.handling.set(
            effects.Handling(
                update.update_id,
                chat.id if chat else None,
                started_at=epoch(self._clock.now()),
            )
        )
        try:
            await self._app.process_update(update)
        except TelegramError:
            log.exception("update %s could not be handled", update.update_id)
        except Exception:
            # The error handler has seen it; the update is done either way, or it would
            # fail again on every restart.
            log.exception("update %s raised", update.update_id)
        finally:
            effects.handling.reset(token)
        self.handled += 1

    async def _flush_forever(self) -> None:
        while True:
            await self._done_ready.wait()
            self._done_ready.clear()
            await self._flush()
            await asyncio.sleep(DONE_FLUSH_SECONDS)

    async def _flush(self) -> None:
        if not self._done:
            return
        done = list(self._done)
        await self._db.write(
            partial(inbox.mark_done, update_ids=done, now=epoch(self._clock.now()))
        )
        # Dropped only once written: a stop that cancels the write keeps them for the
        # final flush (marking one twice is harmless).
        del self._done[: len(done)]
