""" "You said, we did": who a theme or a hypothesis reaches, drafting an update with its
preview, and sending it once confirmed — paced as bulk, outside quiet hours, each
delivery claimed before it goes out so none is sent twice."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram.error import Forbidden, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.catalog import Catalog
from bot.clock import Clock, epoch
from bot.common.parsing import InvalidArgument
from bot.common.quiet_hours import quiet_until
from bot.digest import themes
from bot.digest.answer_vectors import AnswerVectors
from bot.digest.embedding import view
from bot.sending.outbound import BULK
from storage import customers, hypotheses, runtime_settings, tells
from storage.customers import CustomerStatus
from storage.db import REPEATED, Database
from storage.tells import RecentText, Tell, TellStatus

log = logging.getLogger(__name__)

# Themes are found in the answers of this many weeks back: a digest's week and the weeks
# before it, so a theme staff just read about is there to tell.
AUDIENCE_WEEKS = 4
MAX_MESSAGE = 1000
# One delivery claimed at a time: after a crash only the one in flight is in doubt (and is
# not sent again: it may have arrived); none claimed but never tried is lost.
BATCH = 1


@dataclass(frozen=True)
class Target:
    """Who can be told: a theme (by label) or a hypothesis (by id), and how many."""

    kind: str  # theme or hypothesis
    key: str  # the theme's label, or the hypothesis id
    label: str  # how staff see it
    user_ids: tuple[int, ...]
    # What staff may call it: a theme's label in each language.
    names: tuple[str, ...] = ()


async def targets(db: Database, now: int, vectors: AnswerVectors | None = None) -> list[Target]:
    """The themes of the recent answers and the hypotheses answered, largest first; the
    themes by meaning as the digest finds them, once `vectors` has filled in any missing."""
    since = now - int(timedelta(weeks=AUDIENCE_WEEKS).total_seconds())
    if vectors is not None:
        await vectors.fill(since=since)
    model = vectors.embedder.model if vectors is not None else ""

    def gather(
        conn: sqlite3.Connection,
    ) -> tuple[list[RecentText], list[hypotheses.Hypothesis], dict[int, list[int]]]:
        texts = tells.recent_texts(conn, since, model)
        known = hypotheses.list_all(conn)
        return texts, known, {h.id: tells.hypothesis_audience(conn, h.id) for h in known}

    texts, known, audiences = await db.scan(gather)
    # Per question, as the digest finds them: a theme staff read about is one they can tell.
    found = sorted(
        (
            theme
            for question in ("challenge", "improvement")
            for theme in themes.find_themes(
                themes.Answer(
                    k,
                    t.text,
                    t.language,
                    vector=view(t.vector) if t.vector is not None else None,
                )
                for k, t in enumerate(texts)
                if t.question == question
            )
        ),
        key=lambda theme: -theme.count,
    )
    listed = []
    for theme in found:
        names = tuple(dict.fromkeys(theme.labels.values()))
        listed.append(
            Target(
                "theme",
                " / ".join(names),
                " / ".join(names),
                tuple(sorted({texts[k].user_id for k in theme.answer_ids})),
                names,
            )
        )
    listed += [
        Target("hypothesis", str(h.id), f"#{h.id} {h.text_en}", tuple(audiences[h.id]))
        for h in known
        if audiences[h.id]
    ]
    return listed


def choose(found: list[Target], wanted: str) -> Target:
    """The target staff named: `#<id>` for a hypothesis, else a theme's label."""
    wanted = " ".join(wanted.split()).lower()
    if wanted.startswith("#"):
        key = wanted.removeprefix("#")
        for target in found:
            if target.kind == "hypothesis" and target.key == key:
                return target
    for target in found:
        if target.kind == "theme" and wanted in {n.lower() for n in (target.key, *target.names)}:
            return target
    raise InvalidArgument("unknown_target", value=wanted)


def checked_message(text: str) -> str:
    """The update's text: not empty, and short enough to read as a note from the team."""
    text = text.strip()
    if not text:
        raise InvalidArgument("tell_empty")
    if len(text) > MAX_MESSAGE:
        raise InvalidArgument("tell_long", length=len(text), limit=MAX_MESSAGE)
    return text


async def draft(
    db: Database, target: Target, message: str, *, actor_id: int, now: int
) -> Tell | None:
    """Records a draft for the target's customers; None when this update already did."""

    def record(conn: sqlite3.Connection) -> Tell:
        return tells.draft(
            conn,
            target_kind=target.kind,
            target=target.key,
            message=message,
            audience=target.user_ids,
            actor_id=actor_id,
            now=now,
        )

    drafted = await db.write_once(record)
    return None if drafted is REPEATED else drafted


async def decide(db: Database, tell_id: int, send: bool, *, actor_id: int, now: int) -> bool:
    """Confirms (send) or cancels a draft; False when someone decided it already."""
    status = TellStatus.CONFIRMED if send else TellStatus.CANCELLED

    def record(conn: sqlite3.Connection) -> bool:
        return tells.decide(conn, tell_id, status, actor_id=actor_id, now=now)

    decided = await db.write_once(record)
    return False if decided is REPEATED else decided


class TellSender:
    """Sends confirmed updates; one drain at a time."""

    def __init__(
        self, db: Database, bot: ExtBot[Any], catalog: Catalog, clock: Clock, zone: ZoneInfo
    ) -> None:
        self._db = db
        self._bot = bot
        self._catalog = catalog
        self._clock = clock
        self._zone = zone
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[int] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Drains in the background: hundreds of paced sends must not hold up an update."""
        if not self._stopping and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self.drain(), name="tell:drain")

    async def idle(self) -> None:
        """Returns once the background drain (if any) has finished."""
        if self._task is not None:
            await self._task

    async def close(self) -> None:
        """Stops after the send in flight; the claimed rest go back to pending."""
        self._stopping = True
        await self.idle()

    async def drain(self) -> int:
        """Sends every pending delivery (unless it is quiet hours); returns how many went."""
        if self._lock.locked():
            return 0  # the drain under way picks up what was confirmed since
        async with self._lock:
            sent = 0
            while not self._stopping and not await self._quiet():
                batch = await self._db.write(partial(tells.claim_pending, limit=BATCH))
                if not batch:
                    break
                for k, pending in enumerate(batch):
                    if self._stopping:
                        await self._db.write(partial(tells.release, claimed=batch[k:]))
                        break
                    sent += await self._send(pending)
            return sent

    async def _quiet(self) -> bool:
        config = await self._db.read(runtime_settings.load)
        zone = config.zone(self._zone.key)
        moment = self._clock.now()
        return quiet_until(moment, zone, config.quiet_start, config.quiet_end) is not None

    async def _send(self, pending: tells.Pending) -> int:
        text = self._catalog.text(pending.language, "tell.message", message=pending.message)
        error: str | None = None
        try:
            # The outbound path tries it again after a 429 or a passing failure.
            await self._bot.send_message(pending.chat_id, text, rate_limit_args=BULK)
        except Forbidden as exc:
            error = exc.message
            await self._blocked(pending.user_id)
        except TimedOut:
            pass  # Telegram may have delivered it: counted as sent, never resent
        except TelegramError as exc:
            error = exc.message
        await self._db.write(
            partial(
                tells.finish,
                tell_id=pending.tell_id,
                user_id=pending.user_id,
                sent=error is None,
                now=epoch(self._clock.now()),
                error=error,
            )
        )
        if error is not None:
            log.warning("update %s to %s failed: %s", pending.tell_id, pending.user_id, error)
        return 1 if error is None else 0

    async def _blocked(self, user_id: int) -> None:
        now = epoch(self._clock.now())

        def mark_blocked(conn: sqlite3.Connection) -> None:
            if customers.find(conn, user_id) is not None:
                customers.set_status(conn, user_id, CustomerStatus.BLOCKED, now=now)

        await self._db.write(mark_blocked)
