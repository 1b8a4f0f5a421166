"""The sandbox's injected faults and flood limits reach PTB as Telegram's would."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from sandbox import Fault, Sandbox, SimUser

TOKEN = "123456:SANDBOX-TOKEN"


@pytest.fixture(autouse=True)
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every RetryAfter unless time periods are opted in to timedelta.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class Clock:
    """Time that moves only when told, so flood-limit windows do not depend on speed."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sandbox(clock: Clock) -> AsyncIterator[Sandbox]:
    async with Sandbox(TOKEN, clock=clock) as running:
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
async def alice(sandbox: Sandbox) -> SimUser:
    user = sandbox.user(1001, "Alice")
    await user.send("/start")
    return user


@pytest.fixture
async def bob(sandbox: Sandbox) -> SimUser:
    user = sandbox.user(1002, "Bob")
    await user.send("/start")
    return user


async def test_an_injected_429_raises_retry_after_for_as_many_calls_as_asked(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    sandbox.inject("sendMessage", Fault.too_many_requests(retry_after=3), times=2)

    for _ in range(2):
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(alice.id, "Hi")
        assert refused.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(alice.id, "Hi")

    assert [m.text for m in alice.messages] == ["Hi"]
    assert sandbox.stats.faults_injected == 2
    assert [r.status for r in sandbox.requests if r.method == "sendMessage"] == [429, 429, 200]


@pytest.mark.parametrize("status", [500, 502])
async def test_an_injected_server_error_raises_network_error(
    sandbox: Sandbox, bot: Bot, alice: SimUser, status: int
) -> None:
    sandbox.inject("sendMessage", Fault.server_error(status))

    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "Hi")
    assert alice.messages == []


async def test_an_injected_error_page_repeats_the_request_path_with_the_token(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    sandbox.inject("sendMessage", Fault.error_page(502))

    with pytest.raises(NetworkError) as failed:
        await bot.send_message(alice.id, "Hi")

    assert f"/bot{TOKEN}/sendMessage" in failed.value.message
    assert "502 Bad Gateway" in failed.value.message
    assert alice.messages == []


async def test_an_injected_description_may_repeat_the_request_path(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    sandbox.inject("sendMessage", Fault.error(400, "Bad Request: no route to {path}"))

    with pytest.raises(BadRequest) as refused:
        await bot.send_message(alice.id, "Hi")

    # PTB writes a "Bad Request: ..." description in lower case after its first letter.
    assert refused.value.message == f"No route to /bot{TOKEN.lower()}/sendmessage"


async def test_an_injected_answer_replaces_the_methods_result(
    sandbox: Sandbox, bot: Bot
) -> None:
    sandbox.inject("getMe", Fault.answer({"id": 123456, "first_name": "Pulse"}))

    with pytest.raises(TypeError, match="is_bot"):
        await bot.get_me()
    assert (await bot.get_me()).is_bot


async def test_an_injected_fault_can_target_one_chat(
    sandbox: Sandbox, bot: Bot, alice: SimUser, bob: SimUser
) -> None:
    sandbox.inject("sendMessage", Fault.blocked(), times=None, chat_id=bob.id)

    await bot.send_message(alice.id, "Hi Alice")
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(bob.id, "Hi Bob")

    assert alice.last.text == "Hi Alice"
    assert bob.messages == []


async def test_an_injected_delay_still_delivers_the_message(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    injection = sandbox.inject("sendmessage", Fault.delay(0.01), times=3)
    sandbox.round_trip_delay = 0.01

    await bot.send_message(alice.id, "Slowly")

    assert alice.last.text == "Slowly"
    assert (injection.hits, injection.remaining) == (1, 2)


async def test_cleared_faults_no_longer_apply(sandbox: Sandbox, bot: Bot, alice: SimUser) -> None:
    sandbox.inject("*", Fault.server_error(503), times=None)
    sandbox.clear_faults()

    await bot.send_message(alice.id, "Fine")

    assert alice.last.text == "Fine"


async def test_a_second_message_to_a_chat_within_a_second_is_rate_limited(
    sandbox: Sandbox, bot: Bot, alice: SimUser, bob: SimUser
) -> None:
    sandbox.enforce_rate_limits = True

    await bot.send_message(alice.id, "One")
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(alice.id, "Two")
    await bot.send_message(bob.id, "Other chat")

    assert refused.value.retry_after == dtm.timedelta(seconds=1)
    assert [m.text for m in alice.messages] == ["One"]
    assert bob.last.text == "Other chat"
    assert sandbox.stats.rate_limited == 1


async def test_the_limit_lifts_once_the_second_has_passed(
    sandbox: Sandbox, bot: Bot, alice: SimUser, clock: Clock
) -> None:
    sandbox.enforce_rate_limits = True
    await bot.send_message(alice.id, "One")

    clock.now += 1.0
    await bot.send_message(alice.id, "Two")

    assert [m.text for m in alice.messages] == ["One", "Two"]


async def test_more_than_30_messages_a_second_are_rate_limited(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.enforce_rate_limits = True
    users = [sandbox.user(2000 + n, f"User {n}") for n in range(31)]
    for user in users:
        await user.send("/start")

    for user in users[:30]:
        await bot.send_message(user.id, "Round")
    with pytest.raises(RetryAfter):
        await bot.send_message(users[30].id, "Round")

    assert sandbox.stats.rate_limited == 1


async def test_a_call_the_bot_gave_up_on_is_still_carried_out(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    # As with Telegram, a client-side timeout says nothing about whether the message went out.
    sandbox.inject("sendMessage", Fault.delay(0.5))

    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "Sent anyway", read_timeout=0.05)

    assert (await alice.wait_for(lambda m: m.text == "Sent anyway")).text == "Sent anyway"
