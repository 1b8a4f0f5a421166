"""The enrollment transitions as pure functions: every situation against every event."""

from __future__ import annotations

import pytest

from conversations import enrollment
from conversations.enrollment import (
    ClosePending,
    Enroll,
    OpenPending,
    RecordRefusal,
    SetLanguage,
    SetStatus,
    Situation,
    language_for,
)
from storage.customers import Customer, CustomerStatus, Profile
from storage.enrollments import PendingEnrollment
from storage.segments import Segment

PROFILE = Profile(7, 7, "Eva", None, "eva")
RETAIL = Segment(3, "retail", 0)


def customer(status: CustomerStatus, language: str = "nl") -> Customer:
    return Customer(
        7,
        7,
        "Eva",
        None,
        "eva",
        language,
        3,
        status,
        5 if status is CustomerStatus.PAUSED else None,
        1,
        1,
        None,
        None,
        1,
    )


PENDING = PendingEnrollment(40, 7, 7, 2, "en", 1)
NOBODY = Situation(None, None, {}, "en")


def situation(who: Customer | None = None, pending: PendingEnrollment | None = None) -> Situation:
    return Situation(who, pending, {3: "retail"} if who else {}, "en")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("nl", "nl"), ("nl-BE", "nl"), ("NL", "nl"), ("en", "en"), ("de", "en"), (None, "en")],
)
def test_language_follows_telegrams_language_code(code: str | None, expected: str) -> None:
    assert language_for(code) == expected


def test_start_with_a_valid_code_opens_a_consent_question_in_its_segment() -> None:
    decision = enrollment.decide_start(NOBODY, code="c", code_segment=RETAIL, default_segment_id=1)
    assert decision.writes == (OpenPending(3, "en"),)


def test_start_without_a_code_uses_the_default_segment() -> None:
    decision = enrollment.decide_start(NOBODY, code=None, code_segment=None, default_segment_id=1)
    assert decision.writes == (OpenPending(1, "en"),)


def test_start_with_an_unknown_code_writes_nothing() -> None:
    decision = enrollment.decide_start(NOBODY, code="x", code_segment=None, default_segment_id=1)
    assert decision.writes == ()
    assert [r.key for r in decision.outcome.replies] == ["enroll.invalid_code"]


@pytest.mark.parametrize("status", [CustomerStatus.ACTIVE, CustomerStatus.PAUSED])
def test_start_from_an_enrolled_customer_writes_nothing(status: CustomerStatus) -> None:
    decision = enrollment.decide_start(
        situation(customer(status)), code=None, code_segment=None, default_segment_id=1
    )
    assert decision.writes == ()
    reply = decision.outcome.replies[0]
    assert (reply.key, reply.language, dict(reply.params)) == (
        "enroll.already_enrolled",
        "nl",
        {"segment": "retail"},
    )


@pytest.mark.parametrize("status", [CustomerStatus.STOPPED, CustomerStatus.BLOCKED])
def test_start_from_a_stopped_or_blocked_customer_asks_consent_again_in_their_segment(
    status: CustomerStatus,
) -> None:
    decision = enrollment.decide_start(
        situation(customer(status)), code=None, code_segment=None, default_segment_id=1
    )
    assert decision.writes == (OpenPending(3, "nl"),)


def test_yes_to_the_open_question_enrolls_and_closes_it() -> None:
    decision = enrollment.decide_consent(
        situation(pending=PENDING), pending_id=40, accepted=True, profile=PROFILE
    )
    assert decision.writes == (ClosePending(40), Enroll(PROFILE, 2, "en"))
    assert decision.outcome.close_buttons


def test_no_to_the_open_question_records_only_the_refusal() -> None:
    decision = enrollment.decide_consent(
        situation(pending=PENDING), pending_id=40, accepted=False, profile=PROFILE
    )
    assert decision.writes == (ClosePending(40), RecordRefusal(2))


@pytest.mark.parametrize("pending", [None, PENDING])
@pytest.mark.parametrize("accepted", [True, False])
def test_a_press_on_another_question_changes_nothing(
    pending: PendingEnrollment | None, accepted: bool
) -> None:
    decision = enrollment.decide_consent(
        situation(pending=pending), pending_id=39, accepted=accepted, profile=PROFILE
    )
    assert decision.writes == ()
    assert decision.outcome.notice is not None
    assert decision.outcome.notice.key == "enroll.consent_stale"


def test_stop_asks_an_active_customer_to_confirm() -> None:
    decision = enrollment.decide_stop_request(situation(customer(CustomerStatus.ACTIVE)))
    assert decision.writes == ()
    assert decision.outcome.replies[0].buttons


def test_stop_before_consent_withdraws_the_question_without_confirmation() -> None:
    decision = enrollment.decide_stop_request(situation(pending=PENDING))
    assert decision.writes == (ClosePending(40),)


@pytest.mark.parametrize("who", [None, customer(CustomerStatus.STOPPED)])
def test_stop_with_nothing_to_stop_says_so(who: Customer | None) -> None:
    decision = enrollment.decide_stop_request(situation(who))
    assert decision.writes == ()
    assert decision.outcome.replies[0].key == "stop.not_enrolled"


@pytest.mark.parametrize(
    ("confirmed", "writes"), [(True, (SetStatus(CustomerStatus.STOPPED),)), (False, ())]
)
def test_the_stop_confirmation_stops_or_keeps(confirmed: bool, writes: tuple[object]) -> None:
    decision = enrollment.decide_stop_answer(
        situation(customer(CustomerStatus.ACTIVE)), confirmed=confirmed
    )
    assert decision.writes == writes


def test_a_stale_stop_confirmation_changes_nothing() -> None:
    decision = enrollment.decide_stop_answer(
        situation(customer(CustomerStatus.STOPPED)), confirmed=True
    )
    assert decision.writes == ()


@pytest.mark.parametrize("who", [customer(CustomerStatus.ACTIVE), None])
def test_language_choice_is_written_for_customers_and_pending_questions(
    who: Customer | None,
) -> None:
    pending = None if who else PENDING
    decision = enrollment.decide_language(situation(who, pending), choice="en")
    assert decision.writes == (SetLanguage("en"),)
    assert decision.outcome.replies[0].language == "en"


def test_language_choice_from_a_stranger_writes_nothing() -> None:
    decision = enrollment.decide_language(NOBODY, choice="nl")
    assert decision.writes == ()
    assert decision.outcome.replies[0].key == "language.not_enrolled"


def test_an_unknown_language_gets_the_usage() -> None:
    decision = enrollment.decide_language(situation(customer(CustomerStatus.ACTIVE)), choice="fr")
    assert decision.writes == ()
    assert decision.outcome.replies[0].key == "language.usage"


def test_blocking_marks_the_customer_blocked_and_drops_an_open_question() -> None:
    decision = enrollment.decide_blocked(situation(customer(CustomerStatus.ACTIVE), PENDING))
    assert decision.writes == (ClosePending(40), SetStatus(CustomerStatus.BLOCKED))
    assert enrollment.decide_blocked(NOBODY).writes == ()
