"""A week where a segment gives no score (issue 18): the real round and the real digest on a
migrated SQLite database name the segment and its share of the base, widen the weighted
interval to let that share score anything from 1 to 5, and show the answered segments
alone under their own label."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.checkins.rounds import start_round
from bot.clock import epoch
from bot.digest import assembly, figures
from bot.digest.period import Period
from bot.digest.render import render
from storage import invitation_delivery, invitations, runtime_settings
from storage.db import Database
from tests.test_digest_render import CATALOG, text_of

ZONE = ZoneInfo("Europe/Amsterdam")
# Tuesday 17 November 2026, 10:00 in Amsterdam; its digest covers Monday 16 to Monday 23.
TUESDAY_10 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
# Segment 1 ("general"): 60 customers who score 4 and 5; segment 2 ("wholesale"): 40 who
# score 2 when they answer.
SCORES = {user_id: 4 + user_id % 2 if user_id <= 60 else 2 for user_id in range(1, 101)}


async def enroll(db: Database) -> None:
    def add_customers(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO segments (id, name, created_at) VALUES (2, 'wholesale', 0)")
        conn.executemany(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at) VALUES (?1, ?1, 'C', 'en', ?2, 'active',"
            " 0, 0, 0)",
            [(u, 1 if u <= 60 else 2) for u in range(1, 101)],
        )
        runtime_settings.change(conn, "quiet_start", None, actor_id=None, now=0)
        runtime_settings.change(conn, "quiet_end", None, actor_id=None, now=0)

    await db.write(add_customers)


async def week_of(db: Database, tuesday: datetime, answering: set[int]) -> figures.DigestFigures:
    """A round of 20 on `tuesday` in which the `answering` segments score, and the digest
    figures of its week."""
    stamp = epoch(tuesday)
    started = await start_round(
        db, schedule="checkin", scheduled_for=stamp, now=tuesday, zone_name="Europe/Amsterdam"
    )
    assert started is not None

    def mark_sent(conn: sqlite3.Connection) -> list[invitations.Invitation]:
        sent = invitations.for_round(conn, started.round.id)
        for invitation in sent:
            invitation_delivery.mark_sent(conn, invitation.id, message_id=1, now=stamp)
        return sent

    sent = await db.write(mark_sent)
    scoring = [i for i in sent if i.segment_id in answering]

    def answer(conn: sqlite3.Connection) -> None:
        for invitation in scoring:
            score = SCORES[invitation.user_id]
            invitations.save_step(
                conn,
                invitation,
                state=invitations.CheckinState.DONE,
                answer=invitations.Answer(invitation.id, "score", str(score), False, stamp + 60),
                score=score,
                gave_challenge=False,
                now=stamp + 60,
            )

    await db.write(answer)
    monday = datetime(tuesday.year, tuesday.month, tuesday.day, tzinfo=ZONE) - timedelta(days=1)
    return await assembly.collect(db, Period(monday, monday + timedelta(days=7)), ZONE)


async def test_a_segment_without_a_score_is_named_with_its_share_and_widens_the_interval(
    db: Database,
) -> None:
    await enroll(db)
    found = await week_of(db, TUESDAY_10, answering={1})
    (missing,) = found.missing
    assert missing.name == "wholesale"
    assert missing.share == pytest.approx(0.4)
    assert (missing.stand_in, missing.from_earlier) == (3.0, False)
    assert found.weighted is not None
    assert found.weighted_answered is not None
    # The answered segment alone scores about 4.5; the whole base counts wholesale at 3 and
    # lets its 40 % take anything from 1 to 5: the interval spans at least .4 × 4 = 1.6.
    assert found.weighted_answered.mean == pytest.approx(4.5, abs=0.2)
    assert found.weighted.mean == pytest.approx(0.6 * found.weighted_answered.mean + 0.4 * 3)
    assert found.weighted.high - found.weighted.low >= 1.6
    answered_width = found.weighted_answered.high - found.weighted_answered.low
    assert found.weighted.high - found.weighted.low > answered_width
    assert found.by_answers

    english = text_of(render(CATALOG, "en", found, ZONE))
    assert "No score this week from wholesale (40 % of the customer base)" in english
    assert "anything from 1 to 5" in english
    assert "wholesale at 3.0 (the middle of the scale: no earlier scores)" in english
    assert "Answered segments only: <b>" in english
    assert "The sample was split by expected answers" in english
    dutch = text_of(render(CATALOG, "nl", found, ZONE))
    assert "Deze week geen score van wholesale (40 % van het klantenbestand)" in dutch
    assert "Alleen de segmenten die antwoordden: <b>" in dutch


async def test_a_silent_segment_is_counted_at_its_mean_of_earlier_weeks(db: Database) -> None:
    await enroll(db)
    first = await week_of(db, TUESDAY_10 - timedelta(weeks=1), answering={1, 2})
    assert first.missing == ()
    assert "Answered segments only" not in text_of(render(CATALOG, "en", first, ZONE))
    found = await week_of(db, TUESDAY_10, answering={1})
    (missing,) = found.missing
    assert (missing.name, missing.stand_in, missing.from_earlier) == ("wholesale", 2.0, True)
    assert "wholesale at 2.0 (its mean of earlier weeks)" in text_of(
        render(CATALOG, "en", found, ZONE)
    )
