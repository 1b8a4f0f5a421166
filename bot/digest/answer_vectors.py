"""Each free-text answer's sentence vector, computed once after the answer is committed.

Never inside the answer's transaction nor on the event loop: the model runs on its own
thread (`bot.digest.embedding`), after the customer already has their next question, so a
slow or failing model never delays or loses an answer. Answers whose vector is still
missing (the bot stopped first, the model failed) are filled in by the next fill; the
digest runs one for its week before it clusters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from bot.digest.embedding import Embedder, to_bytes
from storage import vectors
from storage.db import Database

log = logging.getLogger(__name__)

# Answers embedded in one go: big enough to batch the model's work, small enough that a
# fill gives the writer back quickly.
BATCH = 64


class AnswerVectors:
    """Fills in the vectors of answers that have none yet."""

    def __init__(self, db: Database, embedder: Embedder) -> None:
        self._db = db
        self.embedder = embedder
        self._lock = asyncio.Lock()
        self._pending = False

    def nudge(self, spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        """After an answer is committed: a fill in the background, unless one is already
        waiting to start (it will see this answer too)."""
        if self._pending:
            return
        self._pending = True
        spawn(self._background())

    async def fill(self, since: int | None = None) -> int:
        """Computes and stores every missing vector (of answers given at or after `since`,
        when set); returns how many. Without the model, stores none."""
        async with self._lock:
            self._pending = False
            stored = 0
            while True:
                batch = await self._db.read(
                    partial(vectors.missing, model=self.embedder.model, limit=BATCH, since=since)
                )
                # The model is loaded only once there is something to embed.
                if not batch or not await self.embedder.available_async():
                    return stored
                found = await self.embedder.embed_async([b.text for b in batch])
                rows = [(b.answer_id, to_bytes(v)) for b, v in zip(batch, found, strict=True)]
                stored += await self._db.write(
                    partial(vectors.store, model=self.embedder.model, vectors=rows)
                )
                if len(batch) < BATCH:
                    return stored

    async def _background(self) -> None:
        try:
            await self.fill()
        except Exception:
            # The answers are safe; the next fill, or the digest's, tries again.
            log.exception("answer vectors could not be computed now")
