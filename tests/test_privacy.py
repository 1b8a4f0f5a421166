"""/forget and retention through the real Application on a real migrated database: nothing
personal is left in any table, the weekly figures stay as they were, and free text past its
retention goes while everything else stays."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from bot.digest.assembly import collect
from bot.digest.figures import DigestFigures
from bot.digest.period import Period
from bot.digest.sending import run_due_digest
from bot.privacy.controls import apply_retention
from storage import customers, runtime_settings
from storage.customers import Profile
from storage.db import Database, fetch_all
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.test_checkin import invitation_of, start_test_round
from tests.transport import FakeTelegram

ZONE = ZoneInfo("Europe/Amsterdam")
# Tuesday 17 November 2026, 10:00 in Amsterdam; the digest of that week goes out Monday.
TUESDAY_10 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
MONDAY_AFTER = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK_OF_TUESDAY = Period(
    datetime(2026, 11, 16, 9, 0, tzinfo=ZONE), datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)
)
# An id, name and handle that occur nowhere else, so a scan that finds them found them.
QUIRINUS = Person(7_300_000_123, "Quirinus", "en", "quirinus_q")
CHALLENGE = "Zwieback deliveries from Hoogkerk arrive late"
WHY = "Hoogkerk warehouse again"
OTHERS = [Person(7_300_000_200 + i, f"Other{i}", "nl" if i % 2 else "en") for i in range(4)]


async def send(app: PulseApplication, person: Person, text: str) -> None:
    await handle(app, builders.message(app.bot, person, text))


async def press(app: PulseApplication, person: Person, data: str) -> None:
    await handle(app, builders.press(app.bot, person, data))


async def invitation_id(app: PulseApplication, person: Person) -> int:
    return (await invitation_of(app, person.id)).id


async def answer(
    app: PulseApplication, person: Person, score: int, challenge: str | None, contact: str
) -> None:
    """One full check-in: a score, a challenge or a skip, no improvement, the contact answer."""
    inv = await invitation_id(app, person)
    await press(app, person, f"ci:{inv}:score:{score}")
    if challenge:
        await send(app, person, challenge)
    else:
        await press(app, person, f"ci:{inv}:skip:challenge")
    await press(app, person, f"ci:{inv}:skip:improvement")
    await press(app, person, f"ci:{inv}:contact:{contact}")


async def enroll_others(app: PulseApplication) -> None:
    def enroll(conn: sqlite3.Connection) -> None:
        for p in OTHERS:
            customers.enroll(
                conn,
                Profile(p.id, p.id, p.first_name, None, None),
                language="nl" if p.language_code == "nl" else "en",
                segment_id=1,
                now=0,
            )

    await services_of(app).db.write(enroll)


async def everything_stored(db: Database) -> list[tuple[str, str, Any]]:
    """(table, column, value) of every value in every table of the database."""

    def every_value(conn: sqlite3.Connection) -> list[tuple[str, str, Any]]:
        found: list[tuple[str, str, Any]] = []
        tables = fetch_all(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in tables:
            # Table names from sqlite_master, never input.
            rows = fetch_all(conn, f'SELECT * FROM "{table}"')  # noqa: S608
            for row in rows:
                found += [(table, column, row[column]) for column in row.keys()]  # noqa: SIM118
        return found

    return await db.read(every_value)


async def vector_count(db: Database, where: str = "1") -> int:
    """Stored answer vectors, of the answers matching `where` (a literal condition)."""
    # The tests' own literal conditions, never input.
    sql = (
        f"SELECT COUNT(*) FROM answer_vectors v JOIN answers a ON a.id = v.answer_id WHERE {where}"  # noqa: S608
    )
    rows = await db.read(lambda conn: fetch_all(conn, sql))
    return int(rows[0][0])


def figures_that_must_not_change(figures: DigestFigures) -> dict[str, Any]:
    """The counts and scores of a week: everything but the words and names."""
    kept = asdict(figures)
    for words in ("challenges", "improvements", "follow_ups", "challenge_answers", "hypotheses"):
        kept.pop(words)
    return kept


@pytest.fixture
def tuesday(clock: ManualClock) -> ManualClock:
    clock._now = TUESDAY_10
    return clock


async def test_forget_leaves_nothing_personal_in_any_table_and_the_figures_unchanged(
    app: PulseApplication, telegram: FakeTelegram, tuesday: ManualClock
) -> None:
    services = services_of(app)
    # Quirinus first says no (a refusal is kept), then takes part.
    await send(app, QUIRINUS, "/start")
    await press(app, QUIRINUS, telegram.last_buttons(QUIRINUS.id)[1][1])
    await send(app, QUIRINUS, "/start")
    await press(app, QUIRINUS, telegram.last_buttons(QUIRINUS.id)[0][1])
    await enroll_others(app)
    await send(app, QUIRINUS, "/frequency")
    await press(app, QUIRINUS, "freq:months:1")
    await start_test_round(app, tuesday)
    # A low score and a contact request: an alert and a follow-up thread about him.
    await answer(app, QUIRINUS, 1, CHALLENGE, "yes")
    for k, other in enumerate(OTHERS):
        await answer(app, other, 2 + k, f"Challenge number {k} for the digest", "no")
    tuesday._now = MONDAY_AFTER
    assert await run_due_digest(services) is not None  # a stored digest names him
    before = await collect(services.db, WEEK_OF_TUESDAY, ZONE)
    assert before.answered == 5
    stored = await everything_stored(services.db)
    assert any(value == QUIRINUS.id for _, _, value in stored)
    assert any("Quirinus" in str(value) for table, _, value in stored if table == "digests")
    assert any("Zwieback" in str(value) for table, _, value in stored if table == "digests")
    assert any(t == "followups" and value == QUIRINUS.id for t, _, value in stored)
    assert any(t == "consent_refusals" and value == QUIRINUS.id for t, _, value in stored)

    # Each challenge got its sentence vector once it was committed.
    assert await vector_count(services.db) == 1 + len(OTHERS)

    await send(app, QUIRINUS, "/forget")
    assert "cannot be undone" in telegram.last_text(QUIRINUS.id)
    await press(app, QUIRINUS, "forget:confirm:yes")
    assert "/start" in telegram.last_text(QUIRINUS.id)
    assert "erased" in telegram.last_text(QUIRINUS.id)

    needles = (str(QUIRINUS.id), "quirinus", "zwieback", "hoogkerk")
    for table, column, value in await everything_stored(services.db):
        assert value != QUIRINUS.id, (table, column)
        if isinstance(value, str | bytes):
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            assert not any(n in text.lower() for n in needles), (table, column, value)
    # His vector went with his words; the others' stay.
    assert await vector_count(services.db) == len(OTHERS)
    assert await vector_count(services.db, "a.value IS NULL") == 0
    after = await collect(services.db, WEEK_OF_TUESDAY, ZONE)
    assert figures_that_must_not_change(after) == figures_that_must_not_change(before)
    assert (after.invited, after.answered, after.scores) == (5, 5, before.scores)
    rows = await services.db.read(
        lambda conn: fetch_all(
            conn,
            "SELECT actor_id, action, subject, old_value, new_value FROM audit_log"
            " WHERE action = 'customer.forget'",
        )
    )
    assert [tuple(r) for r in rows] == [(None, "customer.forget", "1 customer", None, None)]
    # The others are untouched.
    kept = await services.db.read(
        lambda conn: fetch_all(conn, "SELECT first_name FROM customers WHERE user_id > 0")
    )
    assert sorted(r[0] for r in kept) == sorted(p.first_name for p in OTHERS)

    # /start afterwards begins anew, as someone Pulse never met.
    await send(app, QUIRINUS, "/start")
    assert "Welcome back" not in telegram.last_text(QUIRINUS.id)
    assert "May I check in with you" in telegram.last_text(QUIRINUS.id)


async def test_forget_needs_its_confirmation_and_no_keeps_everything(
    app: PulseApplication, telegram: FakeTelegram, tuesday: ManualClock
) -> None:
    await send(app, QUIRINUS, "/start")
    await press(app, QUIRINUS, telegram.last_buttons(QUIRINUS.id)[0][1])
    await send(app, QUIRINUS, "/forget")
    labels = [label for label, _ in telegram.last_buttons(QUIRINUS.id)]
    assert labels == ["Yes, erase my data", "No, keep it"]
    await press(app, QUIRINUS, "forget:confirm:no")
    assert "nothing changes" in telegram.last_text(QUIRINUS.id)
    kept = await services_of(app).db.read(lambda conn: customers.find(conn, QUIRINUS.id))
    assert kept is not None


async def test_forget_from_someone_unknown_erases_nothing_and_says_so(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, QUIRINUS, "/forget")
    assert "nothing to erase" in telegram.last_text(QUIRINUS.id)
    await press(app, QUIRINUS, "forget:confirm:yes")
    assert "nothing to erase" in telegram.last_text(QUIRINUS.id)
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM audit_log")
    )
    assert rows[0][0] == 0


async def test_forget_keeps_the_hypothesis_verdict_and_erases_its_why(
    app: PulseApplication, telegram: FakeTelegram, tuesday: ManualClock
) -> None:
    await send(app, ADMIN, "/hypothesis add Deliveries worry our customers most")
    await send(app, QUIRINUS, "/start")
    await press(app, QUIRINUS, telegram.last_buttons(QUIRINUS.id)[0][1])
    await start_test_round(app, tuesday)
    inv = await invitation_id(app, QUIRINUS)
    await press(app, QUIRINUS, f"ci:{inv}:score:4")
    await press(app, QUIRINUS, f"ci:{inv}:skip:challenge")
    await press(app, QUIRINUS, f"ci:{inv}:hyp:yes")
    await send(app, QUIRINUS, WHY)
    await send(app, QUIRINUS, "/forget")
    await press(app, QUIRINUS, "forget:confirm:yes")
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT question, value FROM answers ORDER BY id")
    )
    assert [tuple(r) for r in rows] == [
        ("score", "4"),
        ("challenge", None),
        ("hypothesis", "yes"),
        ("why", None),
    ]


async def test_retention_erases_exactly_the_free_text_older_than_the_limit(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    services = services_of(app)
    await enroll_others(app)
    old, recent = OTHERS[0], OTHERS[1]
    clock._now = TUESDAY_10 - timedelta(days=400)
    await start_test_round(app, clock)
    await answer(app, old, 2, "An old challenge", "no")
    clock._now = TUESDAY_10 - timedelta(days=10)
    await services.sender.expire()  # the others' first check-ins, never answered
    await start_test_round(app, clock)
    await answer(app, recent, 4, "A recent challenge", "no")
    clock._now = TUESDAY_10

    await services.db.write(
        lambda conn: runtime_settings.change(conn, "retention_days", None, actor_id=None, now=0)
    )
    assert await apply_retention(services.db, epoch(TUESDAY_10)) == 0  # off keeps them
    await services.db.write(
        lambda conn: runtime_settings.change(conn, "retention_days", 365, actor_id=None, now=0)
    )
    assert await vector_count(services.db) == 2
    assert await apply_retention(services.db, epoch(TUESDAY_10)) == 1
    assert await apply_retention(services.db, epoch(TUESDAY_10)) == 0  # done once
    # The old answer's vector went with its words.
    assert await vector_count(services.db) == 1
    assert await vector_count(services.db, "a.value IS NULL") == 0

    rows = await services.db.read(
        lambda conn: fetch_all(
            conn,
            "SELECT i.user_id, a.question, a.value, a.skipped FROM answers a"
            " JOIN invitations i ON i.id = a.invitation_id ORDER BY a.id",
        )
    )
    assert [tuple(r) for r in rows] == [
        (old.id, "score", "2", 0),
        (old.id, "challenge", None, 0),  # still answered, its words gone
        (old.id, "improvement", None, 1),
        (old.id, "contact", "no", 0),
        (recent.id, "score", "4", 0),
        (recent.id, "challenge", "A recent challenge", 0),
        (recent.id, "improvement", None, 1),
        (recent.id, "contact", "no", 0),
    ]
    await send(app, old, "/mydata")
    assert "deleted after the retention period" in "\n".join(
        str(c.params["text"]) for c in telegram.sent(old.id)[-2:]
    )
