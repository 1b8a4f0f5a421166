"""The demo's past: a customer base and six weeks of scheduled check-ins before the demo's
first scene, answered through the real sampling and check-in transitions (no messages:
it happened before the sandbox started), so the digest has weeks to compare."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from bot.checkins.rounds import SCHEDULED, start_round
from bot.clock import epoch
from conversations.checkin import Pressed
from conversations.checkin_service import CheckinService
from conversations.replies import Outcome
from storage import customers, hypotheses, invitation_delivery, invitations, segments
from storage.customers import Profile
from storage.db import Database
from storage.invitations import CheckinState, Invitation

FIRST_ID = 9000
WEEKS = 6
# segment: (customers, how often they answer); online answers rarely, so the digest warns
# that its answers may not represent it.
SEGMENTS = {"retail": (45, 0.8), "wholesale": (30, 0.65), "online": (15, 0.15)}
NAMES = {
    "nl": ("Anouk", "Bas", "Fleur", "Jesse", "Lieke", "Milan", "Roos", "Thijs", "Vera", "Wout"),
    "en": ("Alice", "Ben", "Chloe", "David", "Ella", "George", "Holly", "Jack", "Lucy", "Oscar"),
}
SURNAMES = ("de Vries", "Jansen", "Bakker", "Smith", "Visser", "Brown", "Mulder", "Taylor")
# Recurring themes (delivery, prices, the portal) and some one-offs, in both languages.
CHALLENGES = {
    "nl": (
        "Levering duurt vaak te lang",
        "De levering komt steeds te laat",
        "Onze levering was twee keer onvolledig",
        "De prijzen stijgen te snel",
        "Hogere prijzen dan vorig jaar",
        "Het portaal is traag bij het bestellen",
        "Personeel vinden voor het magazijn",
        "Onze planning loopt steeds vast",
    ),
    "en": (
        "Delivery takes too long",
        "Late delivery of spare parts",
        "The last delivery was incomplete",
        "Prices went up again",
        "Your prices are higher than last year",
        "The ordering portal is slow",
        "Hiring enough staff for the season",
        "Keeping our stock levels right",
    ),
}
IMPROVEMENTS = {
    "nl": (
        "Sneller leveren",
        "Beter bereikbaar zijn aan de telefoon",
        "Een duidelijkere factuur",
        "Sneller reageren op e-mail",
    ),
    "en": (
        "Faster delivery",
        "Answer the phone faster",
        "Clearer invoices",
        "Reply to email faster",
    ),
}


# The hypothesis the admin wrote down for wholesale before the demo's weeks began.
HYPOTHESIS = {
    "en": "Late deliveries are what worries our wholesale customers most",
    "nl": "Te late leveringen zijn de grootste zorg van onze groothandelsklanten",
}
WHYS = {
    "nl": {
        "yes": ("Onze klanten wachten dan ook", "Elke week wel een vertraging"),
        "partly": ("Soms, vooral in december",),
        "no": ("De prijs weegt zwaarder",),
    },
    "en": {
        "yes": ("Our own customers wait too", "Every week something is late"),
        "partly": ("Sometimes, mostly in December",),
        "no": ("Price matters more to us",),
    },
}


async def state_hypothesis(db: Database, actor_id: int, now: datetime) -> None:
    """The hypothesis an admin added for wholesale, worded in both languages."""

    def create_and_reword(conn: sqlite3.Connection) -> None:
        wholesale = segments.find_by_name(conn, "wholesale")
        assert wholesale is not None
        added = hypotheses.create(
            conn,
            segment_id=wholesale.id,
            text=HYPOTHESIS["en"],
            actor_id=actor_id,
            now=epoch(now),
        )
        hypotheses.reword(
            conn, added.id, "nl", HYPOTHESIS["nl"], actor_id=actor_id, now=epoch(now)
        )

    await db.write(create_and_reword)


@dataclass(frozen=True)
class BackgroundCustomer:
    """A customer of the demo's past: the sandbox lets the bot write to them, silently."""

    user_id: int
    first_name: str
    language: str


async def _nothing(outcome: Outcome) -> None:
    """The past's replies are not sent: nobody is there to read them."""


def _score(rng: random.Random, segment: str, week: int) -> int:
    # Wholesale starts unhappy and improves week by week; the others hold steady.
    if segment == "wholesale":
        weights = (3 - week // 2, 4 - week // 2, 4, 3 + week // 2, 1 + week)
    else:
        weights = (1, 2, 4, 6, 4)
    return rng.choices((1, 2, 3, 4, 5), weights=[max(1, w) for w in weights])[0]


async def enroll_background(db: Database, now: datetime) -> list[BackgroundCustomer]:
    """The customer base the demo's admin inherits, enrolled months ago."""
    rng = random.Random(3)
    enrolled_at = epoch(now - timedelta(days=120))

    def enroll_all(conn: sqlite3.Connection) -> list[BackgroundCustomer]:
        people: list[BackgroundCustomer] = []
        next_id = FIRST_ID
        for name, (count, _) in SEGMENTS.items():
            segment = segments.find_by_name(conn, name)
            segment = segment or segments.create(conn, name, now=enrolled_at)
            for k in range(count):
                language = "nl" if k % 5 < 3 else "en"
                first_name = NAMES[language][(next_id + k) % len(NAMES[language])]
                customers.enroll(
                    conn,
                    Profile(next_id, next_id, first_name, rng.choice(SURNAMES), None),
                    language=language,
                    segment_id=segment.id,
                    now=enrolled_at,
                )
                people.append(BackgroundCustomer(next_id, first_name, language))
                next_id += 1
        return people

    return await db.write(enroll_all, long=True)


async def answer_past_weeks(db: Database, zone: ZoneInfo, now: datetime) -> int:
    """Runs the scheduled rounds of the past six Tuesdays and has their customers answer
    as real ones would (some fully, some partly, some never); returns how many answered."""
    rng = random.Random(11)
    service = CheckinService(db)
    rates = {name: rate for name, (_, rate) in SEGMENTS.items()}
    answered = 0
    today = now.astimezone(zone).date()
    # The default schedule: Tuesdays at 10:00, the last one before today.
    last_tuesday = today - timedelta(days=(today.weekday() - 1) % 7 or 7)
    for week in range(WEEKS):
        day = last_tuesday - timedelta(weeks=WEEKS - 1 - week)
        moment = datetime.combine(day, time(10, 0), tzinfo=zone)
        started = await start_round(
            db, schedule=SCHEDULED, scheduled_for=epoch(moment), now=moment, zone_name=zone.key
        )
        if started is None:
            continue
        stamp = epoch(moment)
        sent = await db.write(
            partial(_mark_round_sent, round_id=started.round.id, now=stamp), long=True
        )
        for invitation in sent:
            segment = started.segment_names[invitation.segment_id]
            if rng.random() > rates.get(segment, 0.7):
                continue
            answered += 1
            at = stamp + rng.randint(60, 6 * 3600)
            await _answer(db, service, rng, invitation, segment, week, at)
    return answered


def _mark_round_sent(conn: sqlite3.Connection, round_id: int, now: int) -> list[Invitation]:
    """A past round's invitations, all recorded as sent at `now` (nobody was messaged)."""
    sent = invitations.for_round(conn, round_id)
    for invitation in sent:
        invitation_delivery.mark_sent(conn, invitation.id, message_id=None, now=now)
    return sent


async def _state(db: Database, invitation_id: int) -> CheckinState:
    return (await db.read(lambda conn: invitations.get(conn, invitation_id))).state


async def _answer(
    db: Database,
    service: CheckinService,
    rng: random.Random,
    invitation: Invitation,
    segment: str,
    week: int,
    at: int,
) -> None:
    """One customer's check-in, given through the same transitions as a real one's."""
    invitation_id, user_id, language = invitation.id, invitation.user_id, invitation.language
    score = _score(rng, segment, week)

    async def press(question: str, value: str) -> None:
        event = Pressed(user_id, invitation_id, question, value)  # type: ignore[arg-type]
        await service.press(event, now=at, next_date=lambda _: "", deliver=_nothing)

    async def say(text: str) -> None:
        await service.text(user_id, text, now=at, next_date=lambda _: "", deliver=_nothing)

    await press("score", str(score))
    if rng.random() < (0.8 if score <= 3 else 0.45):
        await say(rng.choice(CHALLENGES[language]))
    else:
        await press("challenge", "skip")
    if await _state(db, invitation_id) is CheckinState.ASKED_HYPOTHESIS:
        # Wholesale mostly recognises the team's hypothesis about deliveries.
        verdict = rng.choices(("yes", "partly", "no"), weights=(6, 3, 2))[0]
        await press("hypothesis", verdict)
        if rng.random() < 0.4:
            await say(rng.choice(WHYS[language][verdict]))
        else:
            await press("why", "skip")
    elif rng.random() < 0.4:
        await say(rng.choice(IMPROVEMENTS[language]))
    else:
        await press("improvement", "skip")
    if await _state(db, invitation_id) is CheckinState.ASKED_CONTACT:
        await press("contact", "yes" if score <= 2 or rng.random() < 0.3 else "no")
