"""A 10,000-customer round against a strict 30/s sandbox, and conversations while it goes out.

`python -m bench.round [--customers N] [--talkers N]`

Pulse runs as its own process against the sandbox enforcing Telegram's flood limits (30
messages in any one-second window, one per chat per second, refused with 429) with a
50 ms round trip, and an admin starts a round to every customer with /checkin_now. The
sandbox's requests are stamped as they arrive, which gives the rate over the round (from
the first invitation to the last), its busiest second and the 429s. Afterwards what
every chat received is set against the invitations in the database: an invitation is
lost when its customer got no first question, doubled when they got more than one.

Meanwhile some of the round's customers ("talkers", spread over it) answer as soon as
their invitation arrives, as a person would: they read for two to four seconds, press a
score, type a challenge, type an improvement. Each answer is timed from the moment it
is in the sandbox's update queue to the moment the next question is in the chat. Only
answers given while invitations are still going out count towards p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    ADMIN_ID,
    INVITED,
    Everyone,
    configure,
    existing_customers,
    percentile,
    pulse,
    write_results,
)
from sandbox import ChatMessage, RecordedRequest, Sandbox, SimUser

ROUND_TRIP = 0.05
LIMIT_PER_SECOND = 30
MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "editmessagetext", "editmessagereplymarkup"}
)
CHALLENGE = ("biggest challenge", "grootste uitdaging")
IMPROVEMENT = ("could we do better", "kunnen we beter")
CONTACT = ("May someone from our team", "Mag iemand van ons team")
THINK_SECONDS = (2.0, 4.0)
# Any one wait for the bot: a reply stuck longer than this is a failure, not a figure.
REPLY_WAIT = 120.0


class Arrivals:
    """When each request reached the sandbox: called by the sandbox at every change."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.stamps: list[float] = []

    def __call__(self) -> bool:
        now = time.perf_counter()
        missing = len(self.sandbox.requests) - len(self.stamps)
        if missing > 0:
            self.stamps.extend([now] * missing)
        return False  # never done: the benchmark cancels the watch


@dataclass
class Talker:
    """A customer who answers while the round is going out, and how long each reply took."""

    person: SimUser
    rng: random.Random
    waits: list[tuple[float, float]] = field(default_factory=list)  # (answered, asked next)

    async def converse(self, deadline: float) -> None:
        """Waits for the invitation, then answers score, challenge and improvement."""
        invitation = await self.person.wait_for(
            lambda m: has(m, INVITED), timeout=deadline, since_last_action=False
        )
        labels = [label for row in invitation.buttons for label in row]
        wanted = f" {self.rng.randint(1, 5)}"
        score = next(x for x in labels if x.endswith(wanted))
        await self.answer(lambda: self.person.press(score), CHALLENGE)
        await self.answer(
            lambda: self.person.send(f"challenge of {self.person.name}"), IMPROVEMENT
        )
        await self.answer(lambda: self.person.send(f"better, says {self.person.name}"), CONTACT)

    async def answer(self, act: Callable[[], object], next_question: tuple[str, ...]) -> None:
        await asyncio.sleep(self.rng.uniform(*THINK_SECONDS))
        seen = max(m.message_id for m in self.person.messages)
        arrived: list[float] = []

        def is_next(message: ChatMessage) -> bool:
            if message.message_id > seen and has(message, next_question):
                arrived.append(time.perf_counter())
                return True
            return False

        await act()  # type: ignore[misc]
        # press() and send() put the update in the sandbox's queue before they return.
        answered = time.perf_counter()
        await self.person.wait_for(is_next, timeout=REPLY_WAIT)
        self.waits.append((answered, arrived[0]))


def has(message: ChatMessage, phrases: tuple[str, ...]) -> bool:
    return any(p in message.text for p in phrases)


@dataclass(frozen=True)
class Result:
    customers: int
    seconds: float
    messages: int
    invitations_per_second: float
    messages_per_second: float
    busiest_second: int
    busiest_second_tried: int
    refused_429: int
    refused_per_chat: int
    lost: int
    doubled: int
    waits_in_round: list[float]
    waits_after: int
    talkers: int


async def measure(number: int, talkers: int) -> Result:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        database = workdir / "pulse.db"
        await configure(
            database,
            checkins_paused=True,
            sample_size=str(number),
            quiet_start=None,
            quiet_end=None,
            reminder_hours=None,
        )
        async with Sandbox(enforce_rate_limits=True, round_trip_delay=ROUND_TRIP) as sandbox:
            people = await existing_customers(sandbox, database, number)
            admin = sandbox.user(ADMIN_ID, "Anne", language_code="en", started=True)
            step = max(1, number // max(1, talkers))
            chosen = [Talker(p, random.Random(i)) for i, p in enumerate(people[::step][:talkers])]
            limit = number / LIMIT_PER_SECOND * 2 + 120  # twice the ideal, and start-up
            arrivals = Arrivals(sandbox)
            watch = asyncio.create_task(sandbox.wait_until(arrivals, timeout=limit + 60))
            async with pulse(sandbox, workdir) as bot:
                first_request = len(sandbox.requests)
                conversations = [asyncio.create_task(t.converse(limit)) for t in chosen]
                await admin.send("/checkin_now")
                await sandbox.wait_until(
                    Everyone(people, lambda p: any(has(m, INVITED) for m in p.messages)),
                    timeout=limit,
                )
                await asyncio.wait_for(asyncio.gather(*conversations), timeout=REPLY_WAIT * 4)
                await sandbox.wait_quiet(timeout=60)
            watch.cancel()
            if bot.process.returncode != 0:
                raise RuntimeError(f"Pulse exited with {bot.process.returncode}:\n{bot.tail()}")
            requests = sandbox.requests[first_request:]
            stamps = arrivals.stamps[first_request : first_request + len(requests)]
            refused = sandbox.stats.rate_limited
            received = {p.id: [m for m in p.messages if has(m, INVITED)] for p in people}
        recorded = database_rows(database)

    invitation_times = [
        t
        for r, t in zip(requests, stamps, strict=True)
        if r.ok and r.method.lower() == "sendmessage" and has_text(r.params, INVITED)
    ]
    start, end = min(invitation_times), max(invitation_times)
    sent = [
        t
        for r, t in zip(requests, stamps, strict=True)
        if r.ok and r.method.lower() in MESSAGE_METHODS and start <= t <= end
    ]
    tried = [
        t for r, t in zip(requests, stamps, strict=True) if r.method.lower() in MESSAGE_METHODS
    ]
    lost, doubled = check_invitations(recorded, received)
    per_chat = refused_per_chat(requests, stamps)
    waits = [(a, b) for t in chosen for a, b in t.waits]
    span = end - start
    return Result(
        customers=number,
        seconds=span,
        messages=len(sent),
        invitations_per_second=(len(invitation_times) - 1) / span,
        messages_per_second=(len(sent) - 1) / span,
        busiest_second=busiest(sent),
        busiest_second_tried=busiest(tried),
        refused_429=refused,
        refused_per_chat=per_chat,
        lost=lost,
        doubled=doubled,
        waits_in_round=[b - a for a, b in waits if b <= end],
        waits_after=sum(1 for _, b in waits if b > end),
        talkers=len(chosen),
    )


def refused_per_chat(requests: list[RecordedRequest], stamps: list[float]) -> int:
    """The 429s that came less than a second after the same chat's last accepted message
    (by arrival): those the per-chat limit refused, the rest the overall window did."""
    last: dict[object, float] = {}
    found = 0
    for request, stamp in zip(requests, stamps, strict=True):
        if request.method.lower() not in MESSAGE_METHODS:
            continue
        chat = request.params.get("chat_id")
        if request.status == 429:
            found += stamp - last.get(chat, float("-inf")) < 1.0
        elif request.ok:
            last[chat] = stamp
    return found


def has_text(params: dict[str, object], phrases: tuple[str, ...]) -> bool:
    text = str(params.get("text", ""))
    return any(p in text for p in phrases)


def database_rows(database: Path) -> list[tuple[int, int | None, str]]:
    with sqlite3.connect(database) as conn:
        return [
            (int(user), None if message is None else int(message), str(delivery))
            for user, message, delivery in conn.execute(
                "SELECT user_id, message_id, delivery FROM invitations"
            )
        ]


def check_invitations(
    rows: list[tuple[int, int | None, str]], received: dict[int, list[ChatMessage]]
) -> tuple[int, int]:
    """(lost, doubled): invitations recorded whose first question never arrived or arrived
    more than once, or not recorded as the message the customer got."""
    lost = doubled = 0
    recorded = {user for user, _, _ in rows}
    for user, message_id, delivery in rows:
        got = received.get(user, [])
        if not got or delivery != "sent" or message_id != got[0].message_id:
            lost += 1
        elif len(got) > 1:
            doubled += 1
    # A customer who got a first question the database knows nothing of was sent one too many.
    doubled += sum(1 for user, got in received.items() if got and user not in recorded)
    return lost, doubled


def busiest(stamps: list[float]) -> int:
    """The most stamps in any one-second window."""
    ordered = sorted(stamps)
    most = 0
    low = 0
    for high, stamp in enumerate(ordered):
        while ordered[low] <= stamp - 1.0:
            low += 1
        most = max(most, high - low + 1)
    return most


def report(result: Result, command: str) -> list[str]:
    waits = result.waits_in_round
    p50, p95 = percentile(waits, 0.5), percentile(waits, 0.95)
    met = {
        "rate": result.messages_per_second >= 28.5,
        "429": result.refused_429 == 0,
        "lost": result.lost == 0 and result.doubled == 0,
        "p95": bool(waits) and p95 <= 1.0,
    }

    def verdict(key: str) -> str:
        return "met" if met[key] else "**missed**"

    return [
        f"Command: `{command}`. Strict sandbox: {LIMIT_PER_SECOND} messages in any one-second"
        f" window, one per chat per second, {round(ROUND_TRIP * 1000)} ms round trip.",
        "",
        "| figure | measured | target | |",
        "|---|---|---|---|",
        f"| customers in the round | {result.customers} | | |",
        f"| round (first to last invitation) | {result.seconds:.1f} s | | |",
        f"| messages/s over the round (all the bot's messages, conversations included)"
        f" | {result.messages_per_second:.2f} | ≥ 28.5 | {verdict('rate')} |",
        f"| invitations/s over the round | {result.invitations_per_second:.2f} | | |",
        f"| busiest second: accepted / tried | {result.busiest_second} /"
        f" {result.busiest_second_tried} | ≤ 30 | |",
        f"| 429s received (of them by the per-chat limit) | {result.refused_429}"
        f" ({result.refused_per_chat}) | 0 | {verdict('429')} |",
        f"| invitations lost / doubled | {result.lost} / {result.doubled} | 0 / 0"
        f" | {verdict('lost')} |",
        f"| answer → next question, p50 / p95 ({len(waits)} answers from {result.talkers}"
        f" customers) | {p50:.3f} s / {p95:.3f} s | p95 ≤ 1 s | {verdict('p95')} |",
        "",
        f"{result.waits_after} answer(s) got their next question after the last invitation"
        " went out and are not counted.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.round", description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument(
        "--talkers",
        type=int,
        default=None,
        help="customers who answer while the round goes out (default: 1 in 50, at least 10)",
    )
    args = parser.parse_args()
    talkers = args.talkers if args.talkers is not None else max(10, args.customers // 50)
    result = asyncio.run(measure(args.customers, talkers))
    command = "python -m bench.round"
    if args.customers != 10_000 or args.talkers is not None:
        command += f" --customers {args.customers}"
        if args.talkers is not None:
            command += f" --talkers {args.talkers}"
    lines = report(result, command)
    print("\n".join(lines))
    write_results("round", lines)


if __name__ == "__main__":
    main()
