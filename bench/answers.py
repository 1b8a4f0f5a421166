"""Answers per second through the whole of Pulse, next to a bare PTB echo bot, same run.

`python -m bench.answers [--customers N] [--echo-customers-slow N]`

Each customer has an invitation out and answers three questions at once: presses a
score, types a challenge, types an improvement (three updates, in that order). The
sandbox holds them as Telegram would; the clock runs from the first update to the moment
every customer has been asked the fourth question, which Pulse sends only after the third
answer is committed. So an answer counts when it went update → state machine → durable
commit → next question. Afterwards every stored answer is checked against what that
customer gave for that question (order per customer, nothing lost, nothing twice).

The echo bot gets three text messages per customer and answers each with one message: it
does less per update than Pulse (a press costs Pulse two calls and an edit), so the ratio
is on the conservative side. The sandbox enforces no flood limits here, and Pulse's own
pacing is opened up, the overall rate and the one message per second per chat alike: this
measures the pipeline, not Telegram's limits (with them, Pulse can answer at most ~30
messages/s, far below either figure). That a customer's three answers arrive together is
what makes the order check mean something: they are in the same poll, and a pipeline that
handled a chat's updates side by side would store them out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    ADMIN_ID,
    INVITED,
    Everyone,
    configure,
    existing_customers,
    process,
    pulse,
    write_results,
)
from sandbox import Sandbox, SimUser
from tests.process import bot_env

CONTACT = ("May someone from our team", "Mag iemand van ons team")
WAIT = 600.0
# The echo bot is started as `python -m bench.echo_bot`, so it needs the repository on its path.
REPOSITORY = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Run:
    bot: str
    round_trip_ms: int
    updates: int
    seconds: float
    in_order: bool

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds


def asked(person: SimUser, phrases: tuple[str, ...]) -> bool:
    return any(any(p in m.text for p in phrases) for m in person.messages)


async def pulse_run(round_trip: float, number: int) -> Run:
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
            send_rate=1_000_000.0,
            chat_interval=0.0,
        )
        async with Sandbox() as sandbox:
            people = await existing_customers(sandbox, database, number)
            admin = sandbox.user(ADMIN_ID, "Anne", language_code="en", started=True)
            async with pulse(sandbox, workdir) as bot:
                await admin.send("/checkin_now")
                await sandbox.wait_until(
                    Everyone(people, lambda p: asked(p, INVITED)), timeout=WAIT
                )
                await sandbox.wait_quiet(timeout=WAIT)
                sandbox.round_trip_delay = round_trip
                started = time.perf_counter()
                for i, person in enumerate(people):
                    labels = [label for row in person.last.buttons for label in row]
                    await person.press(next(x for x in labels if x.endswith(f" {1 + i % 5}")))
                    await person.send(f"challenge of {person.name}")
                    await person.send(f"improvement of {person.name}")
                await sandbox.wait_until(
                    Everyone(people, lambda p: asked(p, CONTACT)), timeout=WAIT
                )
                seconds = time.perf_counter() - started
                sandbox.round_trip_delay = 0.0
            if bot.process.returncode != 0:
                raise RuntimeError(f"Pulse exited with {bot.process.returncode}:\n{bot.tail()}")
        in_order = answers_as_given(database, people)
    return Run("Pulse", round(round_trip * 1000), 3 * number, seconds, in_order)


def answers_as_given(database: Path, people: list[SimUser]) -> bool:
    with sqlite3.connect(database) as conn:
        found = {
            (str(name), str(question)): str(value)
            for name, question, value in conn.execute(
                "SELECT c.first_name, a.question, a.value FROM answers a JOIN invitations i"
                " ON i.id = a.invitation_id JOIN customers c ON c.user_id = i.user_id"
            )
        }
    expected = {}
    for i, person in enumerate(people):
        expected[(person.name, "score")] = str(1 + i % 5)
        expected[(person.name, "challenge")] = f"challenge of {person.name}"
        expected[(person.name, "improvement")] = f"improvement of {person.name}"
    return found == expected


async def echo_run(round_trip: float, number: int) -> Run:
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        async with Sandbox() as sandbox:
            people = [sandbox.user(10_000 + i, f"C{i}", started=True) for i in range(number)]
            env = bot_env(sandbox, workdir / "unused.db", str(ADMIN_ID))
            argv = [sys.executable, "-m", "bench.echo_bot", sandbox.base_url, sandbox.token]
            env["PYTHONPATH"] = REPOSITORY
            async with process(sandbox, argv, workdir, "echo", env):
                sandbox.round_trip_delay = round_trip
                started = time.perf_counter()
                for person in people:
                    for n in range(3):
                        await person.send(f"{person.name}:{n}")
                await sandbox.wait_until(
                    Everyone(people, lambda p: len(p.messages) >= 3), timeout=WAIT
                )
                seconds = time.perf_counter() - started
                sandbox.round_trip_delay = 0.0
            in_order = all(
                [m.text for m in p.messages if m.from_bot] == [f"{p.name}:{n}" for n in range(3)]
                for p in people
            )
    return Run("bare PTB echo bot", round(round_trip * 1000), 3 * number, seconds, in_order)


async def measure(customers: int, slow_echo_customers: int) -> list[Run]:
    runs = []
    for round_trip in (0.0, 0.05):
        echo_customers = customers if round_trip == 0 else slow_echo_customers
        for run in (
            await echo_run(round_trip, echo_customers),
            await pulse_run(round_trip, customers),
        ):
            print(
                f"{run.bot:18} {run.round_trip_ms:3} ms: {run.updates} updates in"
                f" {run.seconds:.2f} s = {run.per_second:.0f}/s, in order: {run.in_order}",
                flush=True,
            )
            runs.append(run)
    return runs


def report(runs: list[Run]) -> list[str]:
    lines = [
        "| round trip | bot | updates | seconds | updates/s | each customer in order |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.round_trip_ms} ms | {run.bot} | {run.updates} | {run.seconds:.2f} |"
            f" {run.per_second:.0f} | {'yes' if run.in_order else '**no**'} |"
        )
    for round_trip in sorted({r.round_trip_ms for r in runs}):
        pair = {r.bot: r for r in runs if r.round_trip_ms == round_trip}
        ratio = pair["Pulse"].per_second / pair["bare PTB echo bot"].per_second
        lines.append("")
        lines.append(f"At {round_trip} ms Pulse handles {ratio:.2f}× the echo bot's rate.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answers", description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument(
        "--echo-customers-slow",
        type=int,
        default=100,
        help="customers for the echo bot at 50 ms (it takes one update at a time)",
    )
    args = parser.parse_args()
    runs = asyncio.run(measure(args.customers, args.echo_customers_slow))
    lines = report(runs)
    print("\n".join(lines))
    write_results("answers", lines)


if __name__ == "__main__":
    main()
