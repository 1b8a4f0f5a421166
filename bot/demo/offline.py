"""`pulsebot demo`: the real bot against the loopback sandbox, with simulated people."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_application, running
from bot.clock import ManualClock, epoch
from bot.common.context import Services
from bot.common.display import plain_text
from bot.demo.history import FIRST_ID, answer_past_weeks, enroll_background, state_hypothesis
from bot.digest.sending import run_due_digest
from bot.running.logs import TokenRedactingFilter
from bot.sending.delivery import Sender
from bot.settings import Settings
from sandbox import DEFAULT_TOKEN, ChatMessage, Sandbox, SimUser
from storage import customers, digests, enrollments, invitations, runtime_settings, segments
from storage.db import Database

ADMIN_ID = 500
WAIT = 15.0  # seconds a simulated person waits for the bot before the demo gives up


class Demo:
    """The scenes of the demo, each printed as the part of the transcript it produced."""

    def __init__(self, sandbox: Sandbox, out: Path) -> None:
        self.sandbox = sandbox
        self.out = out
        self._printed = 0
        self.lines: list[str] = []
        # The customer base of the past: messages to them are not worth reading.
        self.background: set[str] = set()

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)

    def scene(self, title: str) -> None:
        self.flush()
        self.say(f"\n== {title} ==")

    def flush(self) -> None:
        events = self.sandbox.transcript[self._printed :]
        self._printed += len(events)
        for event in events:
            if event.who not in self.background:
                self.say(event.format())

    async def act(self, user: SimUser, action: Callable[[], Awaitable[object]]) -> ChatMessage:
        """Does something as `user` and waits for the bot's next new message to them."""
        seen = max((m.message_id for m in user.messages), default=0)
        await action()
        return await user.wait_for(lambda m: m.message_id > seen, WAIT)

    async def invite(self, admin: SimUser, segment: str) -> str:
        reply = await self.act(admin, lambda: admin.send(f"/invite {segment}"))
        return reply.text.split("?start=", 1)[1].split()[0]

    async def enroll(self, user: SimUser, code: str | None, answer: str | None) -> None:
        await self.act(user, lambda: user.send(f"/start {code}" if code else "/start"))
        if answer is not None:
            await self.act(user, lambda: user.press(answer))


async def run_demo(out: Path | None = None) -> int:
    """Runs every scene and prints the transcript; returns the exit status."""
    out = out or Path(tempfile.mkdtemp(prefix="pulse-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    database = out / "pulse.db"
    database.unlink(missing_ok=True)
    with _logged_to(out / "pulse.log") as log_path:
        status = await _run_demo(out, database)
    if log_path.stat().st_size:
        print(f"The bot logged warnings or errors; they are in {log_path}")
    return status


@contextmanager
def _logged_to(path: Path) -> Iterator[Path]:
    """The bot's log lines go to a file for the demo: printed, a line such as a failed edit
    lands in the middle of the transcript with nothing to say which scene it belongs to."""
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(TokenRedactingFilter(DEFAULT_TOKEN))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()


async def _run_demo(out: Path, database: Path) -> int:
    async with Sandbox(DEFAULT_TOKEN, "pulse_demo_bot") as sandbox:
        # Every value is given here, so no PULSE_* variable or .env can point the demo at a
        # real database or a real bot.
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(DEFAULT_TOKEN),
            admin_ids=(ADMIN_ID,),
            database_path=database,
            timezone="Europe/Amsterdam",
            telegram_base_url=sandbox.base_url,
            log_level="WARNING",
        )
        # A Monday morning in Amsterdam: outside quiet hours, and no scheduled round due.
        clock = ManualClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))
        demo = Demo(sandbox, out)
        await _history(demo, sandbox, settings, clock)
        app = build_application(settings, clock)
        async with running(app, poll_timeout=1):
            await _scenes(demo, sandbox)
            services = app.bot_data.services
            assert services is not None
            await _round(demo, sandbox, clock, services.sender)
            await _digest(demo, sandbox, services)
            demo.flush()
            await services.db.read(partial(_summary, demo))
    (out / "transcript.txt").write_text("\n".join(demo.lines) + "\n", encoding="utf-8")
    print(f"\nThe transcript and the database are in {out}")
    return 0


async def _history(demo: Demo, sandbox: Sandbox, settings: Settings, clock: ManualClock) -> None:
    """The six weeks before the demo: a customer base, its rounds and answers, the
    digest moved to Tuesday mornings and a hypothesis written down by the admin back then."""
    db = await Database.open(settings.database_path)
    try:
        people = await enroll_background(db, clock.now())
        start = epoch(clock.now()) - 50 * 86400
        move_digest = partial(
            runtime_settings.change, name="digest_day", value="tue", actor_id=ADMIN_ID, now=start
        )
        await db.write(move_digest)
        await state_hypothesis(db, ADMIN_ID, clock.now() - timedelta(days=50))
        answered = await answer_past_weeks(db, settings.zone, clock.now())
    finally:
        await db.close()
    for person in people:
        sandbox.user(
            person.user_id, person.first_name, language_code=person.language, started=True
        )
        demo.background.add(person.first_name)
    demo.say(
        f"(Before the demo: {len(people)} customers in three segments, and six weekly"
        f" check-in rounds with {answered} answers, simulated. Back then the admin also moved"
        " the weekly digest from Monday 09:00, the default, to Tuesday 09:00: the demo starts"
        " on a Monday morning, and this week's digest goes out at its end, on Tuesday.)"
    )


async def _scenes(demo: Demo, sandbox: Sandbox) -> None:
    anne = sandbox.user(ADMIN_ID, "Anne", username="anne_admin", language_code="en")
    bram = sandbox.user(1001, "Bram", username="bram", language_code="nl")
    claire = sandbox.user(1002, "Claire", username="claire", language_code="en")
    dirk = sandbox.user(1003, "Dirk", language_code="nl")
    emma = sandbox.user(1004, "Emma", username="emma", language_code="en-GB")
    finn = sandbox.user(1005, "Finn", language_code="en")
    gijs = sandbox.user(1006, "Gijs", language_code="nl-BE")
    hana = sandbox.user(1007, "Hana", language_code="de")

    demo.scene("The admin makes invite links for two segments")
    retail = await demo.invite(anne, "retail")
    wholesale = await demo.invite(anne, "wholesale")

    demo.scene("Bram (Dutch) opens the retail link and agrees")
    await demo.enroll(bram, retail, "Ja, prima")

    demo.scene("Claire (English) opens the wholesale link and agrees")
    await demo.enroll(claire, wholesale, "Yes, that's fine")

    demo.scene("Dirk opens the retail link and says no: only the refusal is kept")
    await demo.enroll(dirk, retail, "Nee, liever niet")

    demo.scene("Emma starts without a link (default segment), then switches to Dutch")
    await demo.enroll(emma, None, "Yes, that's fine")
    await demo.act(emma, lambda: emma.send("/language"))
    await demo.act(emma, lambda: emma.press("Nederlands"))

    demo.scene("Finn joins, then stops")
    await demo.enroll(finn, wholesale, "Yes, that's fine")
    await demo.act(finn, lambda: finn.send("/stop"))
    await demo.act(finn, lambda: finn.press("Yes, stop"))

    demo.scene("Gijs joins, then blocks the bot")
    await demo.enroll(gijs, retail, "Ja, prima")
    await gijs.block()

    ivo = sandbox.user(1008, "Ivo", language_code="en")
    demo.scene("Ivo joins too")
    await demo.enroll(ivo, wholesale, "Yes, that's fine")

    demo.scene("Hana tries a team command, a sticker and an old link")
    await demo.act(hana, lambda: hana.send("/invite friends"))
    await demo.act(hana, lambda: hana.send_sticker())
    await demo.act(hana, lambda: hana.send("/start not-a-real-code"))
    await demo.act(hana, lambda: hana.send("/help"))

    demo.scene("The admin checks the settings and moves the check-ins; a night time is refused")
    await demo.act(anne, lambda: anne.send("/settings"))
    # Not on Mondays: the demo's clock stands on a Monday morning, so nothing is due.
    await demo.act(anne, lambda: anne.send("/schedule checkin tue,thu 10:30"))
    await demo.act(anne, lambda: anne.send("/schedule checkin sun 02:30"))
    await demo.act(hana, lambda: hana.send("/digest"))


async def _round(demo: Demo, sandbox: Sandbox, clock: ManualClock, sender: Sender) -> None:
    anne, bram, claire = (
        sandbox.user(ADMIN_ID, "Anne"),
        sandbox.user(1001, "Bram"),
        sandbox.user(1002, "Claire"),
    )
    emma, ivo = sandbox.user(1004, "Emma"), sandbox.user(1008, "Ivo")
    asked = ("How are things", "Hoe tevreden")

    demo.scene("The admin starts a check-in round (stopped and blocked customers are left out)")
    await demo.act(anne, lambda: anne.send("/checkin_now"))
    for person in (bram, claire, emma, ivo):
        await person.wait_for(
            lambda m: any(a in m.text for a in asked), WAIT, since_last_action=False
        )

    demo.scene("Bram answers everything")
    await demo.act(bram, lambda: bram.press("🙁 2"))
    await demo.act(bram, lambda: bram.send("Onze planning loopt steeds vast"))
    await demo.act(bram, lambda: bram.send("Sneller reageren op e-mail"))
    await demo.act(bram, lambda: bram.press("Ja, graag"))

    demo.scene("Claire gives a score and skips the rest")
    await demo.act(claire, lambda: claire.press("😄 5"))
    await demo.act(claire, lambda: claire.press("Skip"))
    await demo.act(claire, lambda: claire.press("Skip"))

    demo.scene("Emma says not now")
    await demo.act(emma, lambda: emma.press("Nu niet"))

    demo.scene("Ivo does not answer; a day later he gets one reminder")
    clock.advance(timedelta(hours=25))
    seen = max(m.message_id for m in ivo.messages)
    await sender.drain()  # what the upkeep job does every minute
    await ivo.wait_for(lambda m: m.message_id > seen, WAIT)


async def _digest(demo: Demo, sandbox: Sandbox, services: Services) -> None:
    anne = sandbox.user(ADMIN_ID, "Anne")
    sanne = sandbox.user(1009, "Sanne", username="sanne", language_code="nl")

    demo.scene("Sanne joins the team through a one-time staff link")
    link = await demo.act(anne, lambda: anne.send("/staff invite"))
    code = link.text.split("?start=", 1)[1].split()[0]
    await demo.act(sanne, lambda: sanne.send(f"/start {code}"))

    demo.scene(
        "Tuesday, past 09:00 (this team's digest time; Monday by default): the weekly digest"
        " goes to the team, Dutch for Sanne"
    )
    await run_due_digest(services)  # what the weekly digest job does at that time
    chart = await sanne.wait_for(lambda m: m.kind == "photo", WAIT, since_last_action=False)
    demo.flush()
    stored = await services.db.read(partial(digests.list_recent, limit=2))
    for digest in stored:
        path = demo.out / f"digest.{digest.language}.txt"
        path.write_text(plain_text("\n\n".join(digest.parts)) + "\n", encoding="utf-8")
        demo.say(f"(the {digest.language} digest's text is in {path})")
    if chart.file is not None:
        (demo.out / "digest-chart.png").write_bytes(chart.file.data)
        demo.say(f"(its chart is in {demo.out / 'digest-chart.png'})")


def _summary(demo: Demo, conn: sqlite3.Connection) -> None:
    names = {s.id: s.name for s in segments.list_all(conn)}
    # The people of the scenes; the simulated customer base would fill pages.
    people = {c.user_id: c for c in customers.list_all(conn) if c.user_id < FIRST_ID}
    demo.say("\n== What the database holds ==")
    for customer in people.values():
        handle = f"@{customer.username}" if customer.username else "(no handle)"
        demo.say(
            f"{customer.first_name:8} {handle:12} segment={names[customer.segment_id]:10}"
            f" language={customer.language} status={customer.status.value}"
        )
    demo.say(f"consent refusals kept (no name, no handle): {enrollments.count_refusals(conn)}")
    for invitation in invitations.all_invitations(conn):
        if invitation.user_id not in people:
            continue
        answers = invitations.answers_for(conn, invitation.id)
        given = ", ".join(
            f"{a.question}=" + ("(skipped)" if a.skipped else repr(a.value)) for a in answers
        )
        name = people[invitation.user_id].first_name
        reminded = " (reminded)" if invitation.reminded_at else ""
        demo.say(f"check-in {name:8} {invitation.state.value:12}{reminded} {given}".rstrip())
