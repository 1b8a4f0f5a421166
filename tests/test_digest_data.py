"""What the digest reads from a real migrated database: which invitations count in which
week, which answers are in time, and who is to be followed up."""

from __future__ import annotations

import sqlite3

from storage import digest_data
from storage.db import Database

WEEK = 7 * 86400
B0 = 1_700_000_000
BOUNDS = [B0, B0 + WEEK, B0 + 2 * WEEK]  # two weeks


async def seed(db: Database) -> None:
    """Two segments, two weeks of invitations in every delivery state, and answers."""

    def insert_rows(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO segments (id, name, created_at) VALUES (2, 'b2b', 0)")
        for user_id, segment, first, username in (
            (1, 1, "Ann", "ann"),
            (2, 1, "Bo", None),
            (3, 2, "Cas", "cas"),
            (4, 2, "Dee", None),
            (5, 2, "Eli", None),
        ):
            conn.execute(
                "INSERT INTO customers (user_id, chat_id, first_name, username, language,"
                " segment_id, status, consented_at, enrolled_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'en', ?, 'active', 0, 0, 0)",
                (user_id, user_id, first, username, segment),
            )
        conn.executemany(
            "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size, target,"
            " seed) VALUES (?, 'checkin', ?, ?, '20', 5, 1)",
            [(1, B0, B0), (2, B0 + 2 * WEEK, B0 + 2 * WEEK)],
        )
        invitations = [
            # id, user, segment, delivery, score, created, answered
            (1, 1, 1, "sent", 4, B0 + 10, B0 + 20),  # week 0
            (7, 2, 1, "sent", 5, B0 + 20, B0 + WEEK + 20),  # week 0, answered in week 1
            (2, 2, 1, "sent", 2, B0 + WEEK, B0 + WEEK + 5),  # week 1, on the bound
            (3, 3, 2, "uncertain", 5, B0 + WEEK + 9, B0 + WEEK + 50),  # may have arrived
            (4, 4, 2, "failed", None, B0 + WEEK + 9, None),  # never reached them
            (5, 5, 2, "sent", 1, B0 + WEEK + 9, B0 + 2 * WEEK + 1),  # answered too late
            (6, 1, 1, "sent", 3, B0 + 2 * WEEK, B0 + 2 * WEEK + 1),  # after the window
        ]
        conn.executemany(
            "INSERT INTO invitations (id, round_id, user_id, chat_id, segment_id, language,"
            " state, delivery, score, created_at, send_after, expires_at, answered_at)"
            " VALUES (?, ?, ?, ?, ?, 'en', 'done', ?, ?, ?, 0, 0, ?)",
            [
                (i, 2 if i in (6, 7) else 1, u, u, s, d, sc, c, a)
                for i, u, s, d, sc, c, a in invitations
            ],
        )
        conn.executemany(
            "INSERT INTO answers (invitation_id, question, value, skipped, answered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (2, "challenge", "Slow <deliveries>", 0, B0 + WEEK + 6),
                (2, "improvement", None, 1, B0 + WEEK + 7),
                (2, "contact", "yes", 0, B0 + WEEK + 8),
                (3, "challenge", "Prices", 0, B0 + WEEK + 51),
                (3, "contact", "no", 0, B0 + WEEK + 52),
                (5, "challenge", "Too late to count", 0, B0 + 2 * WEEK + 2),
            ],
        )

    await db.write(insert_rows)


async def test_each_delivered_invitation_counts_in_the_week_it_was_made(db: Database) -> None:
    await seed(db)
    rows = await db.read(lambda conn: digest_data.week_segment_counts(conn, BOUNDS))
    by_key = {(r.week, r.segment_id): r for r in rows}
    assert set(by_key) == {(0, 1), (1, 1), (1, 2)}
    # Invitation 7's 5 came in the week after its own: week 0 is measured as its digest was.
    assert (by_key[0, 1].invited, by_key[0, 1].answered, by_key[0, 1].scores) == (
        2,
        1,
        (0, 0, 0, 1, 0),
    )
    # On the bound belongs to the later week.
    assert by_key[1, 1].scores == (0, 1, 0, 0, 0)
    (only,) = await db.read(lambda conn: digest_data.week_segment_counts(conn, BOUNDS[:2]))
    # A window of one week works too; its answers count until the week's end.
    assert (only.week, only.invited, only.answered) == (0, 2, 1)
    # Failed is not invited; uncertain is; a score given after the period is not counted.
    assert (by_key[1, 2].invited, by_key[1, 2].answered, by_key[1, 2].scores) == (
        2,
        1,
        (0, 0, 0, 0, 1),
    )


async def test_free_text_is_read_with_who_gave_it_and_whether_they_may_be_contacted(
    db: Database,
) -> None:
    await seed(db)
    texts = await db.read(lambda conn: digest_data.text_answers(conn, BOUNDS[1], BOUNDS[2]))
    assert [(t.text, t.first_name, t.contact) for t in texts] == [
        ("Slow <deliveries>", "Bo", True),
        ("Prices", "Cas", False),
    ]


async def test_follow_ups_are_contact_requests_first_then_low_scores(db: Database) -> None:
    await seed(db)
    people = await db.read(
        lambda conn: digest_data.follow_ups(conn, BOUNDS[0], BOUNDS[2], low_score=2)
    )
    # Bo asked for contact (and scored 2); Eli's 1 came after the period ended.
    assert [(p.first_name, p.score, p.contact, p.challenge) for p in people] == [
        ("Bo", 2, True, "Slow <deliveries>"),
    ]
    later = await db.read(
        lambda conn: digest_data.follow_ups(conn, BOUNDS[1], BOUNDS[2] + 10, low_score=2)
    )
    assert [(p.first_name, p.contact) for p in later] == [("Bo", True), ("Eli", False)]


async def test_an_anonymous_record_left_by_forget_is_no_follow_up(db: Database) -> None:
    await seed(db)

    def anonymise(conn: sqlite3.Connection) -> None:
        # As /forget leaves a customer's check-ins: moved to a negative id with no name.
        conn.execute(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at) VALUES (-1, -1, '', 'en', 1, 'stopped',"
            " 0, 0, 0)"
        )
        conn.execute("UPDATE invitations SET user_id = -1, chat_id = -1 WHERE id = 2")

    def follow_ups_and_counts(
        conn: sqlite3.Connection,
    ) -> tuple[list[digest_data.FollowUpRow], list[digest_data.WeekSegmentCounts]]:
        return (
            digest_data.follow_ups(conn, BOUNDS[0], BOUNDS[2], low_score=2),
            digest_data.week_segment_counts(conn, BOUNDS),
        )

    await db.write(anonymise)
    people, counts = await db.read(follow_ups_and_counts)
    assert people == []
    # Their score still counts in the week's figures.
    assert {(r.week, r.segment_id): r.scores for r in counts}[1, 1] == (0, 1, 0, 0, 0)
