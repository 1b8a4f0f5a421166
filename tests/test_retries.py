"""The one retry policy, and the faults it meets in the running application: empty presses,
over-long replies and echoes of what was typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.common.context import PulseApplication
from bot.common.excerpts import ECHO_CHARS, echo
from bot.common.replying import split_message
from bot.sending.retries import BULK, MENUS, POLL, SEND, STARTUP, Policy
from tests import builders
from tests.conftest import ADMIN, handle
from tests.transport import FakeTelegram


def test_a_429_waits_exactly_its_retry_after() -> None:
    for policy in (SEND, BULK, POLL, STARTUP, MENUS):
        assert policy.delay(RetryAfter(timedelta(seconds=7)), 1) == 7.0


def test_passing_failures_back_off_doubling_with_jitter_up_to_the_cap() -> None:
    policy = Policy(attempts=None, first=1.0, cap=8.0)
    for failures, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (30, 8.0)):
        waits = [policy.delay(NetworkError("Bad Gateway"), failures) for _ in range(200)]
        assert all(w is not None and ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered: not all in step


def test_a_refusal_or_a_bad_token_is_never_tried_again() -> None:
    for exc in (BadRequest("chat not found"), Forbidden("blocked"), InvalidToken("Unauthorized")):
        for policy in (SEND, BULK, POLL, STARTUP, MENUS):
            assert policy.delay(exc, 1) is None


def test_a_timeout_is_tried_again_only_by_calls_that_may_be_repeated() -> None:
    assert SEND.delay(TimedOut(), 1) is None  # the message may have arrived
    assert BULK.delay(TimedOut(), 1) is None
    assert POLL.delay(TimedOut(), 1) is not None
    assert STARTUP.delay(TimedOut(), 1) is not None


def test_a_conflict_and_an_unreadable_answer_are_waited_out_by_the_poller() -> None:
    assert POLL.delay(Conflict("terminated by other getUpdates request"), 1) is not None
    assert POLL.delay(TelegramError("Invalid server response"), 1) is not None
    assert SEND.delay(TelegramError("Invalid server response"), 1) is None


def test_bounded_policies_give_up_after_their_attempts_and_the_poller_never() -> None:
    assert STARTUP.attempts is not None
    assert STARTUP.delay(NetworkError("Bad Gateway"), STARTUP.attempts - 1) is not None
    assert STARTUP.delay(NetworkError("Bad Gateway"), STARTUP.attempts) is None
    assert STARTUP.delay(RetryAfter(timedelta(seconds=1)), STARTUP.attempts) is None
    assert POLL.delay(NetworkError("Bad Gateway"), 10_000) == pytest.approx(30.0, abs=15.0)


def test_a_line_longer_than_a_message_is_cut_into_parts_that_fit() -> None:
    text = "intro\n<b>" + "word " * 2000 + "</b>\n" + "x" * 9000
    parts = split_message(text)
    assert all(len(part) <= 4000 for part in parts)
    assert "".join(parts).replace("</b><b>", "").count("word") == 2000
    # Every part is valid HTML on its own: a bold run cut in two is closed and reopened.
    for part in parts:
        assert part.count("<b>") == part.count("</b>")


def test_a_cut_never_splits_an_entity_or_a_tag() -> None:
    text = ("a&amp;" * 1000) + ('<a href="https://example.com">x</a>' * 200)
    for part in split_message(text, limit=500):
        assert len(part) <= 500
        assert not part.endswith(("&", "&a", "&am", "&amp"))
        assert part.count("<a ") == part.count("</a>")


def test_an_echo_is_a_short_excerpt_of_what_was_typed() -> None:
    assert echo("tue 25:00") == "tue 25:00"
    assert len(echo("9" * 4090)) == ECHO_CHARS


async def test_a_refusal_repeats_only_a_short_excerpt_of_a_huge_argument(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await handle(app, builders.message(app.bot, ADMIN, "/alerts " + "9" * 4090))
    reply = telegram.last_text(ADMIN.id)
    assert "9" * (ECHO_CHARS + 1) not in reply
    assert len(reply) < 1000
    assert "/alerts" in reply  # still says how to use it


async def test_a_staff_digest_with_long_junk_is_refused_briefly(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await handle(app, builders.message(app.bot, ADMIN, "/digest " + "x" * 4090))
    assert all(len(call.params.get("text", "")) < 1000 for call in telegram.of("sendMessage"))


async def test_a_press_without_data_is_answered_and_reaches_no_feature(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    sent_before = len(telegram.of("sendMessage"))
    await handle(app, builders.press(app.bot, builders.Person(42, "Zoë"), ""))
    answers = telegram.of("answerCallbackQuery")
    assert len(answers) == 1
    assert "text" in answers[0].params  # the "old button" notice
    assert len(telegram.of("sendMessage")) == sent_before
