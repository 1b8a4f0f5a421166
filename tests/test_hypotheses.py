"""Hypotheses: the status rule and rotation on hand-checked fixtures, and /hypothesis
through the real Application."""

from __future__ import annotations

import pytest

from bot.common.context import PulseApplication
from bot.hypotheses.evidence import Candidate, Status, evidence, rotate, split_segment, wilson
from storage import hypotheses
from storage.hypotheses import HypothesisStatus, Tally
from storage.team import Role
from tests.conftest import ADMIN, services_of
from tests.team_chat import STAFF, make_member, reply, snapshot
from tests.transport import FakeTelegram


def test_the_wilson_interval_matches_a_hand_computed_one() -> None:
    # p = .8, n = 20: centre (.8 + 3.8415/40) / (1 + 3.8415/20) = .75164; margin
    # 1.96 × sqrt(.16/20 + 3.8415/1600) / 1.19207 = .16768.
    low, high = wilson(0.8, 20)
    assert low == pytest.approx(0.58396, abs=1e-4)
    assert high == pytest.approx(0.91932, abs=1e-4)


@pytest.mark.parametrize(
    ("yes", "partly", "no", "status"),
    [
        (15, 2, 3, Status.SUPPORTED),  # share .8, interval .58–.92: all above one half
        (3, 2, 15, Status.NOT_SUPPORTED),  # share .2, interval .08–.42: all below
        (8, 4, 8, Status.MIXED),  # share .5: the interval straddles one half
        (9, 0, 0, Status.NEEDS_MORE),  # unanimous, but nine answers are too few
        (0, 0, 0, Status.NEEDS_MORE),
    ],
)
def test_the_status_rule_of_the_readme(yes: int, partly: int, no: int, status: Status) -> None:
    assert evidence(Tally(1, yes, partly, no)).status is status


def test_partly_counts_as_half_a_yes() -> None:
    found = evidence(Tally(1, 4, 4, 2))
    assert found.share == pytest.approx(0.6)
    assert found.answers == 10


def test_rotation_gives_each_invitation_the_least_asked_hypothesis_of_its_segment() -> None:
    candidates = [Candidate(1, None, 0), Candidate(2, None, 0), Candidate(3, 2, 5)]
    chosen = rotate([(10, 1), (11, 1), (12, 2), (13, 2), (14, 2)], candidates)
    # Ties go to the oldest; segment 2's own one was asked 5 times already.
    assert chosen == [(10, 1), (11, 2), (12, 1), (13, 2), (14, 1)]


def test_rotation_skips_customers_whose_segment_has_no_hypothesis() -> None:
    assert rotate([(10, 1), (11, 2)], [Candidate(7, 2, 0)]) == [(11, 7)]


def test_a_leading_segment_name_scopes_the_hypothesis() -> None:
    names = ["retail", "big accounts"]
    assert split_segment("retail Delivery is late", names) == ("retail", "Delivery is late")
    assert split_segment("Big Accounts want invoices", names) == (
        "big accounts",
        "want invoices",
    )
    assert split_segment("Delivery is late", names) == (None, "Delivery is late")


async def listed(app: PulseApplication) -> list[hypotheses.Hypothesis]:
    return await services_of(app).db.read(hypotheses.list_all)


async def test_an_admin_adds_rewords_and_retires_a_hypothesis(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    added = await reply(app, telegram, ADMIN, "/hypothesis add general Delivery <times> worry")
    assert "Hypothesis <b>#1</b> for general: “Delivery &lt;times&gt; worry”" in added
    (one,) = await listed(app)
    assert (one.segment_id, one.text_en, one.text_nl) == (1, "Delivery <times> worry", one.text_en)

    reworded = await reply(app, telegram, ADMIN, "/hypothesis text 1 nl Levertijden baren zorgen")
    assert "“Delivery &lt;times&gt; worry” → “Levertijden baren zorgen”" in reworded
    await reply(app, telegram, ADMIN, "/hypothesis add Prices are the real issue")
    shown = await reply(app, telegram, ADMIN, "/hypothesis")
    assert "<b>#1</b> · general · active · needs more answers · no answers yet" in shown
    assert "    nl: Levertijden baren zorgen" in shown
    assert "<b>#2</b> · every segment · active" in shown

    assert "retires itself once it has 30 answers" in await reply(
        app, telegram, ADMIN, "/hypothesis retire 2 after 30"
    )
    assert "is retired" in await reply(app, telegram, ADMIN, "/hypothesis retire #1")
    assert "was retired already" in await reply(app, telegram, ADMIN, "/hypothesis retire 1")
    statuses = [(h.id, h.status, h.retire_after) for h in await listed(app)]
    assert statuses == [(2, HypothesisStatus.ACTIVE, 30), (1, HypothesisStatus.RETIRED, None)]
    audit = await reply(app, telegram, ADMIN, "/audit 5")
    assert "retired hypothesis <b>#1</b>: active → retired" in audit
    assert "added hypothesis <b>#2</b>: – → Prices are the real issue" in audit


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/hypothesis add", "Usage: <code>/hypothesis</code>"),
        ("/hypothesis remove 1", "Usage: <code>/hypothesis</code>"),
        ("/hypothesis text 1 de Hallo", "Usage: <code>/hypothesis</code>"),
        ("/hypothesis text 9 nl Hallo", "There is no hypothesis <b>#9</b>"),
        ("/hypothesis retire one", "Usage: <code>/hypothesis</code>"),
        ("/hypothesis retire 9", "There is no hypothesis <b>#9</b>"),
        ("/hypothesis retire 9 after 0", "<b>0</b> is not a whole number from 1 to 100000."),
        ("/hypothesis add " + "x" * 201, "That text has 201 characters"),
    ],
)
async def test_a_wrong_hypothesis_command_explains_and_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram, command: str, answer: str
) -> None:
    before = await snapshot(app)
    assert answer in await reply(app, telegram, ADMIN, command)
    assert await snapshot(app) == before


async def test_staff_cannot_change_hypotheses(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await make_member(app, STAFF, Role.STAFF)
    assert "only for our team" in await reply(app, telegram, STAFF, "/hypothesis add Prices")
    assert await listed(app) == []


async def test_a_segment_with_a_hypothesis_is_not_removed_silently(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await reply(app, telegram, ADMIN, "/invite retail")
    await reply(app, telegram, ADMIN, "/hypothesis add retail Deliveries worry customers")
    refused = await reply(app, telegram, ADMIN, "/segment remove retail")
    assert "Segment <b>retail</b> is not removed" in refused
    assert "1 hypothesis belong to it" in refused
    (kept,) = await listed(app)
    assert kept.segment_id is not None


async def test_an_id_too_large_for_the_database_is_an_unknown_hypothesis(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    huge = "9" * 30
    assert f"There is no hypothesis <b>#{huge}</b>" in await reply(
        app, telegram, ADMIN, f"/hypothesis retire {huge}"
    )
    assert "There is no hypothesis" in await reply(
        app, telegram, ADMIN, f"/hypothesis text {huge} nl Hallo"
    )
