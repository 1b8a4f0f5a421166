"""Whether the weighted pulse means what it says: 100 simulated weeks with known truths.

`python -m bench.pulse [--weeks N] [--only before|after]`

Three segments (true means 4.3, 3.1 and 2.2; 50, 30 and 20 % of the customers; response
rates 60, 30 and 10 %), first at the default settings (300 customers, a sample of 20),
then with 3,000 customers and a 10 % sample. Each week a round is started through the real
`bot.checkins.rounds.start_round` (the real draw: cool-down, rotation, the split over segments) on
a real migrated SQLite file; its invitations are marked sent, each invited customer gives
their score with their segment's response rate, and the rest let it expire. Then the week's
digest figures are read and computed by the real digest code (`bot.digest.reading`,
`bot.digest.assembly`) and set against the truth: the mean of every customer's score. Each
customer holds one fixed score, dealt out so that their segment's scores follow a normal of
spread 1 around a centre whose mean on the 1–5 scale is the segment's truth; so the truth is
known exactly.

"Before" is the method before issue 18: the sample split by due customers and the weighted
score renormalised over the segments that answered, with a normal interval. "After" splits
by expected answers and counts a silent segment's share at anything from 1 to 5; beside it
the interval methods of `bot.digest.weighting` on the same weeks. Coverage is over the
weeks that have a weighted score at all (at least 5 scores; the others say "too few").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import math
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import write_results
from bot.checkins.rounds import start_round
from bot.digest import assembly, reading
from bot.digest.period import Period
from bot.digest.statistics import Estimate
from bot.digest.weighting import DEFAULT_INTERVAL, Interval
from storage import invitation_delivery, invitations, runtime_settings, segments
from storage.db import Database

ZONE = ZoneInfo("UTC")
# The first round: Tuesday 2 January 2024, 10:00; digests cover Monday to Monday.
FIRST_TUESDAY = dt.datetime(2024, 1, 2, 10, 0, tzinfo=dt.UTC)
DAY = 86_400
SPREAD = 1.0  # the standard deviation of the discretised normal scores are drawn from


@dataclass(frozen=True)
class Segment:
    name: str
    truth: float
    share: float
    rate: float


SEGMENTS = (
    Segment("happy", 4.3, 0.5, 0.6),
    Segment("middling", 3.1, 0.3, 0.3),
    Segment("unhappy", 2.2, 0.2, 0.1),
)


@dataclass(frozen=True)
class Scenario:
    label: str
    customers: int
    sample: str


SCENARIOS = (
    Scenario("default settings: 300 customers (150, 90, 60), sample 20", 300, "20"),
    Scenario("3,000 customers (1,500, 900, 600), sample 10 %", 3000, "10%"),
)


def score_counts(truth: float, size: int) -> list[int]:
    """How many of `size` customers give 1..5: a normal around a centre found so that the
    mean is `truth`, in whole customers by largest remainder, then nudged to the nearest."""

    def shares(centre: float) -> list[float]:
        weights = [math.exp(-((k - centre) ** 2) / (2 * SPREAD**2)) for k in range(1, 6)]
        return [w / sum(weights) for w in weights]

    low, high = -10.0, 16.0
    for _ in range(100):
        centre = (low + high) / 2
        if sum(k * p for k, p in zip(range(1, 6), shares(centre), strict=True)) < truth:
            low = centre
        else:
            high = centre
    exact = [p * size for p in shares(low)]
    counts = [math.floor(x) for x in exact]
    for k in sorted(range(5), key=lambda k: -(exact[k] - counts[k]))[: size - sum(counts)]:
        counts[k] += 1
    # Move single customers one score up or down while that brings the mean closer.
    while True:
        total = sum((k + 1) * n for k, n in enumerate(counts))
        gap = truth * size - total
        if abs(gap) < 1:
            return counts
        step = 1 if gap > 0 else -1
        source = next(k for k in (range(4) if step > 0 else range(4, 0, -1)) if counts[k] > 0)
        counts[source] -= 1
        counts[source + step] += 1


@dataclass
class Tally:
    """One method's weeks: the estimate each week had (None: too few scores)."""

    estimates: list[Estimate | None] = field(default_factory=list)
    # Per week with a figure: whether some segment of the base had no score in it.
    missing: list[bool] = field(default_factory=list)

    def add(self, estimate: Estimate | None, missing: bool) -> None:
        self.estimates.append(estimate)
        if estimate is not None:
            self.missing.append(missing)

    @property
    def missing_weeks(self) -> int:
        return sum(self.missing)

    def complete_coverage(self, truth: float) -> float:
        """Coverage over the weeks where every segment scored: the small segments' own
        intervals, without the 1-to-5 bounds of a silent one."""
        shown = [e for e in self.estimates if e is not None]
        complete = [e for e, gap in zip(shown, self.missing, strict=True) if not gap]
        if not complete:
            return math.nan
        return sum(e.low <= truth <= e.high for e in complete) / len(complete)

    def row(self, truth: float) -> tuple[int, float, float, float]:
        """Weeks with a figure, coverage, bias and mean interval width over them."""
        shown = [e for e in self.estimates if e is not None]
        if not shown:
            return 0, math.nan, math.nan, math.nan
        covered = sum(e.low <= truth <= e.high for e in shown) / len(shown)
        bias = statistics.fmean(e.mean - truth for e in shown)
        width = statistics.fmean(e.high - e.low for e in shown)
        return len(shown), covered, bias, width


async def build(
    path: Path, scenario: Scenario, rng: random.Random
) -> tuple[dict[int, int], float]:
    """A migrated database with the scenario's customers; their scores by user id, and the
    true mean of the customer base."""
    db = await Database.open(path)

    def configure(conn: sqlite3.Connection) -> list[segments.Segment]:
        made = [segments.create(conn, s.name, now=0) for s in SEGMENTS]
        for name, value in (("sample_size", scenario.sample), ("quiet_start", None)):
            runtime_settings.change(conn, name, value, actor_id=None, now=0)
        runtime_settings.change(conn, "quiet_end", None, actor_id=None, now=0)
        return made

    made = await db.write(configure)
    await db.close()
    scores: dict[int, int] = {}
    rows = []
    user_id = 1000
    for segment, made_segment in zip(SEGMENTS, made, strict=True):
        size = round(scenario.customers * segment.share)
        given = [k + 1 for k, n in enumerate(score_counts(segment.truth, size)) for _ in range(n)]
        rng.shuffle(given)
        for score in given:
            user_id += 1
            scores[user_id] = score
            rows.append((user_id, user_id, f"C{user_id}", "en", made_segment.id))
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 0, 0, 0)",
            rows,
        )
    return scores, sum(scores.values()) / len(scores)


async def simulate(
    scenario: Scenario, by_answers: bool, weeks: int, seed: int
) -> tuple[dict[str, Tally], float, list[float]]:
    """`weeks` weeks of rounds and digests; the tallies by method, the truth, and the mean
    invited and scored per week."""
    rng = random.Random(seed)
    rate_of = {s.name: s.rate for s in SEGMENTS}
    methods = (
        {"before": Tally()}
        if not by_answers
        else {f"after ({interval.value})": Tally() for interval in Interval}
    )
    invited_total = scored_total = 0
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pulse.db"
        scores, truth = await build(path, scenario, rng)
        db = await Database.open(path)
        try:
            names = {s.id: s.name for s in await db.read(segments.list_all)}
            for week in range(weeks):
                tuesday = FIRST_TUESDAY + dt.timedelta(weeks=week)
                stamp = int(tuesday.timestamp())
                await db.write(functools.partial(invitations.expire_overdue, now=stamp))
                started = await start_round(
                    db,
                    schedule="checkin",
                    scheduled_for=stamp,
                    now=tuesday,
                    zone_name="UTC",
                    by_answers=by_answers,
                )
                assert started is not None

                def mark_all_sent(
                    conn: sqlite3.Connection, round_id: int, at: int
                ) -> list[invitations.Invitation]:
                    sent = invitations.for_round(conn, round_id)
                    for invitation in sent:
                        invitation_delivery.mark_sent(
                            conn, invitation.id, now=at, message_id=invitation.id
                        )
                    return sent

                # The round's invitations, thousands of them: on a worker thread.
                sent = await db.write(
                    functools.partial(mark_all_sent, round_id=started.round.id, at=stamp),
                    long=True,
                )
                answering = [i for i in sent if rng.random() < rate_of[names[i.segment_id]]]
                invited_total += len(sent)
                scored_total += len(answering)

                def answer(
                    raw: sqlite3.Connection, who: Sequence[invitations.Invitation], at: int
                ) -> None:
                    for number, invitation in enumerate(who):
                        moment = at + 3600 + number
                        invitations.save_step(
                            raw,
                            invitation,
                            state=invitations.CheckinState.DONE,
                            answer=invitations.Answer(
                                invitation.id,
                                "score",
                                str(scores[invitation.user_id]),
                                False,
                                moment,
                            ),
                            score=scores[invitation.user_id],
                            gave_challenge=False,
                            now=moment,
                        )

                await db.write(functools.partial(answer, who=answering, at=stamp))
                monday = tuesday - dt.timedelta(days=1, hours=10)
                period = Period(monday, monday + dt.timedelta(weeks=1))
                data = await reading.read_input(db, period, ZONE, model="")
                if by_answers:
                    for interval in Interval:
                        found = assembly.weighted(data, interval)
                        tally = methods[f"after ({interval.value})"]
                        tally.add(
                            None if found is None else found.estimate,
                            bool(found and found.missing),
                        )
                    shipped = assembly.build(data).weighted
                    assert shipped == methods[f"after ({DEFAULT_INTERVAL.value})"].estimates[-1]
                else:
                    found = assembly.weighted(data, Interval.NORMAL)
                    methods["before"].add(
                        None if found is None else found.answered_only,
                        bool(found and found.missing),
                    )
        finally:
            await db.close()
    return methods, truth, [invited_total / weeks, scored_total / weeks]


def repeated(weeks: int, repeats: int) -> list[str]:
    """The shipped method over `repeats` more runs of `weeks` weeks (seeds 1, 2, ...): one
    run's coverage and bias move by a few points and hundredths from seed to seed."""
    shipped = f"after ({DEFAULT_INTERVAL.value})"
    lines = [
        f"The shipped method over {repeats} more runs of {weeks} weeks each (seeds 1 to"
        f" {repeats}): one run's figures vary by chance, the mean over the runs much less.",
        "",
        "| settings | weeks with a score, per run | coverage per run (mean) |"
        " bias per run (mean) |",
        "|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        rows = []
        for seed in range(1, repeats + 1):
            methods, truth, _ = asyncio.run(simulate(scenario, True, weeks, seed))
            rows.append(methods[shipped].row(truth))
        shown = sum(r[0] for r in rows)
        covered = sum(r[0] * r[1] for r in rows) / shown
        bias = sum(r[0] * r[2] for r in rows) / shown
        line = (
            f"| {scenario.label} | {', '.join(str(r[0]) for r in rows)} |"
            f" {', '.join(f'{r[1] * 100:.0f}' for r in rows)} % ({covered * 100:.1f} %) |"
            f" {', '.join(f'{r[2]:+.3f}' for r in rows)} ({bias:+.3f}) |"
        )
        print(line, flush=True)
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pulse", description=__doc__)
    parser.add_argument("--weeks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--only", choices=("before", "after"))
    parser.add_argument(
        "--repeats", type=int, default=5, help="further runs of the shipped method, other seeds"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    lines = [
        "Segments: true means "
        + ", ".join(f"{s.truth}" for s in SEGMENTS)
        + "; shares of the customers "
        + ", ".join(f"{round(s.share * 100)} %" for s in SEGMENTS)
        + "; response rates "
        + ", ".join(f"{round(s.rate * 100)} %" for s in SEGMENTS)
        + f". {args.weeks} weekly rounds and digests each, through `start_round` and"
        " `bot.digest.assembly` on a real migrated SQLite file. Coverage: the share of weeks"
        " with a weighted score whose 95 % interval holds the true mean (goal ≥ 93 %);"
        " bias: the mean of score − truth over those weeks (goal |bias| ≤ 0.05).",
        "",
        "| settings | method | invited / scored per week | weeks with a score | weeks"
        " missing a segment | coverage | when every segment scored | bias | mean width |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        for by_answers in (False, True):
            if args.only and (args.only == "after") != by_answers:
                continue
            methods, truth, per_week = asyncio.run(
                simulate(scenario, by_answers, args.weeks, args.seed)
            )
            for name, tally in methods.items():
                shown, covered, bias, width = tally.row(truth)
                shipped = " (shipped)" if name == f"after ({DEFAULT_INTERVAL.value})" else ""
                line = (
                    f"| {scenario.label} (truth {truth:.3f}) | {name}{shipped} |"
                    f" {per_week[0]:.1f} / {per_week[1]:.1f} | {shown} | {tally.missing_weeks} |"
                    f" {covered * 100:.0f} % | {tally.complete_coverage(truth) * 100:.0f} % |"
                    f" {bias:+.3f} | {width:.2f} |"
                )
                print(line, flush=True)
                lines.append(line)
    if args.only != "before" and args.repeats:
        lines += ["", *repeated(args.weeks, args.repeats)]
    command = "python -m bench.pulse"
    if args.weeks != 100:
        command += f" --weeks {args.weeks}"
    if args.repeats != 5:
        command += f" --repeats {args.repeats}"
    lines = [f"Command: `{command}` ({time.perf_counter() - started:.0f} s).", "", *lines]
    print("\n".join(lines))
    if args.only is None:
        write_results("pulse", lines)


if __name__ == "__main__":
    main()
