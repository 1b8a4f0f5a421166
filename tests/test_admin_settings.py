"""Settings commands through the real Application: confirmations with old → new and the
next runs, refusals with a reason and the usage line, jobs moved at once, and the audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_application
from bot.checkins.rounds import start_round
from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication, PulseContext
from bot.common.schedule import next_runs
from bot.running.scheduling import ROUND_JOB, run_due_round
from bot.settings import Settings
from storage import audit, invitations, runtime_settings
from storage.db import fetch_all
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, TOKEN, services_of
from tests.team_chat import CUSTOMER, enroll, reply, snapshot
from tests.transport import FakeTelegram

DUTCH_ADMIN = Person(501, "Bram", "nl", "bram_admin")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        admin_ids=(ADMIN.id, DUTCH_ADMIN.id),
        database_path=tmp_path / "bot.db",
    )


async def stored(app: PulseApplication) -> runtime_settings.RuntimeSettings:
    return await services_of(app).db.read(runtime_settings.load)


def round_trigger(app: PulseApplication) -> str:
    assert app.job_queue is not None
    jobs = app.job_queue.get_jobs_by_name(ROUND_JOB)
    assert len(jobs) == 1, "the round job must be replaced, never duplicated"
    return str(jobs[0].trigger)


@asynccontextmanager
async def restarted(
    settings: Settings, clock: ManualClock, telegram: FakeTelegram
) -> AsyncIterator[PulseApplication]:
    """A second Application on the same database, as after a restart."""
    again = build_application(settings, clock, request=telegram)
    await again.initialize()
    assert again.post_init is not None
    await again.post_init(again)
    try:
        yield again
    finally:
        await services_of(again).sender.close()
        await again.shutdown()
        assert again.post_shutdown is not None
        await again.post_shutdown(again)


async def test_settings_lists_every_setting_and_the_next_runs(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/settings")
    for line in (
        "Check-ins: tue at 10:00",
        "Check-in rounds: running",
        "Sample size: 20 customers",
        "Cool-down: 30 days",
        "Reminder: after 24 hours",
        "Expiry: after 72 hours",
        "Quiet hours: 20:00–09:00",
        "Time zone: Europe/Amsterdam (from PULSE_TIMEZONE)",
        "Digest: mon at 09:00",
        "Missed round still run: after 12 hours",
        # The test fixture stores these, as an operator might.
        "Sending: 10000 messages per second, 0 s apart per chat",
        # Tuesday 17 November, 10:00 in Amsterdam: this week's check-in is now, not next.
        "Next check-ins: Tue 24 November 10:00, Tue 1 December 10:00, Tue 8 December 10:00",
        "Next digest: Mon 23 November 09:00",
    ):
        assert line in text


async def test_a_schedule_change_confirms_old_new_and_the_next_runs(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/schedule checkin mon-fri 09:30")
    assert "<b>Check-ins</b>: tue at 10:00 → mon-fri at 09:30" in text
    assert (
        "Next check-ins: Wed 18 November 09:30, Thu 19 November 09:30, Fri 20 November 09:30"
        in text
    )
    config = await stored(app)
    assert (config.checkin_days, config.checkin_time) == (
        ("mon", "tue", "wed", "thu", "fri"),
        "09:30",
    )
    text = await reply(app, telegram, ADMIN, "/schedule digest fri 16:00")
    assert "<b>Digest</b>: mon at 09:00 → fri at 16:00" in text
    assert "Next digest: Fri 20 November 16:00" in text


async def test_a_schedule_change_moves_the_job_at_once_and_survives_a_restart(
    app: PulseApplication,
    telegram: FakeTelegram,
    settings: Settings,
    clock: ManualClock,
) -> None:
    assert app.job_queue is not None
    assert "day_of_week='tue', hour='10', minute='0'" in round_trigger(app)
    await app.job_queue.start()
    try:
        await reply(app, telegram, ADMIN, "/schedule checkin tue,thu 07:45")
        moved = "day_of_week='tue,thu', hour='7', minute='45'"
        assert moved in round_trigger(app)
        (job,) = app.job_queue.get_jobs_by_name(ROUND_JOB)
        # The scheduler runs on the real clock: its next run is the schedule's next one.
        expected = next_runs(("tue", "thu"), "07:45", "Europe/Amsterdam", datetime.now(UTC), 1)
        assert job.next_t == expected[0]
    finally:
        # Waiting lets a job the scheduler started meanwhile (the catch-up at 0 s, the
        # upkeep at 1 s) end while the application still runs: an error it raises after
        # the test would leave PTB's error handling unawaited, failing whichever test the
        # process runs next.
        await app.job_queue.stop(wait=True)
    async with restarted(settings, clock, telegram) as again:
        assert moved in round_trigger(again)
        assert "Check-ins: tue, thu at 07:45" in await reply(again, telegram, ADMIN, "/settings")


async def test_a_time_zone_change_moves_schedules_and_quiet_hours(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    text = await reply(app, telegram, ADMIN, "/timezone america/new_york")
    assert "<b>Time zone</b>: Europe/Amsterdam (from PULSE_TIMEZONE) → America/New_York" in text
    # 04:00 on Tuesday in New York: today's 10:00 is still to come.
    assert "Next check-ins: Tue 17 November 10:00," in text
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(ROUND_JOB)
    assert str(job.job.trigger.timezone) == "America/New_York"
    # Quiet hours (20:00-09:00) are New York's now: a round at 04:00 there waits until 09:00.
    await enroll(app, CUSTOMER)
    services = services_of(app)
    started = await start_round(
        services.db,
        schedule="test",
        scheduled_for=epoch(clock.now()),
        now=clock.now(),
        zone_name=services.settings.timezone,
    )
    assert started is not None
    (invitation,) = await services.db.read(
        lambda conn: invitations.for_round(conn, started.round.id)
    )
    assert invitation.send_after == epoch(datetime(2026, 11, 17, 14, 0, tzinfo=UTC))


async def test_each_setting_command_stores_its_value(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    assert "20 customers → 10% of the customers" in await reply(
        app, telegram, ADMIN, "/sample 10%"
    )
    assert "30 days → 14 days" in await reply(app, telegram, ADMIN, "/cooldown 14")
    assert "after 24 hours → off" in await reply(app, telegram, ADMIN, "/reminder off")
    assert "after 72 hours → after 48 hours" in await reply(app, telegram, ADMIN, "/expiry 48")
    assert "20:00–09:00 → 22:00–07:30" in await reply(app, telegram, ADMIN, "/quiet 22:00-7:30")
    assert "22:00–07:30 → off" in await reply(app, telegram, ADMIN, "/quiet off")
    config = await stored(app)
    assert config.sample_size == "10%"
    assert config.cooldown_days == 14
    assert config.reminder_hours is None
    assert config.expiry_hours == 48
    assert (config.quiet_start, config.quiet_end) == (None, None)


async def test_the_same_value_again_changes_nothing_and_audits_nothing(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, "/cooldown 30")
    assert text == "<b>Cool-down</b> is already 30 days: nothing changed."
    assert await snapshot(app) == before


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("/schedule checkin tue 25:00", "25:00</b> is not a time"),
        ("/schedule checkin funday 10:00", "funday</b> is not a weekday"),
        ("/schedule digest mon-fri 09:00", "The digest goes out on one weekday"),
        ("/sample 0", "0</b> is not a sample size"),
        ("/cooldown 400", "400</b> is not a whole number from 0 to 365"),
        ("/reminder soon", "soon</b> is not a whole number from 1 to 720"),
        ("/expiry 0", "0</b> is not a whole number from 1 to 720"),
        ("/quiet 09:00-09:00", "start and end at the same time"),
        ("/timezone Mars/Olympus", "Mars/Olympus</b> is not a time zone I know"),
        ("/reminder 100", "The reminder (100 h) must come before the check-in expires (72 h)"),
    ],
)
async def test_bad_input_gets_the_reason_and_the_usage_line_and_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram, command: str, reason: str
) -> None:
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, command)
    assert reason in text
    assert "Usage: <code>/" in text
    assert await snapshot(app) == before


@pytest.mark.parametrize(
    "command", ["/schedule", "/schedule weekly", "/sample", "/cooldown", "/pause now", "/quiet"]
)
async def test_the_wrong_shape_gets_the_usage_line(
    app: PulseApplication, telegram: FakeTelegram, command: str
) -> None:
    name = command.split()[0]
    assert (await reply(app, telegram, ADMIN, command)).startswith(f"Usage: <code>{name}")


async def test_a_dutch_admin_is_answered_in_dutch(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, DUTCH_ADMIN, "/schedule checkin di 25:00")
    assert "<b>25:00</b> is geen tijd" in text
    assert "Gebruik: <code>/schedule checkin &lt;dagen&gt; &lt;UU:MM&gt;</code>" in text
    text = await reply(app, telegram, DUTCH_ADMIN, "/schedule checkin ma-vr 9:30")
    assert "<b>Check-ins</b>: di om 10:00 → ma-vr om 09:30" in text
    assert "Volgende check-ins: wo 18 november 09:30" in text


async def test_a_schedule_in_the_hour_a_clock_change_skips_is_refused_with_the_day(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, "/schedule checkin sat,sun 02:30")
    assert "Refused: on Sun 28 March the clocks in Europe/Amsterdam skip the hour" in text
    assert await snapshot(app) == before
    text = await reply(app, telegram, ADMIN, "/schedule digest sun 02:30")
    assert "on Sun 28 March" in text
    assert "the digest schedule would run at a time nobody chose" in text


async def test_a_schedule_in_the_repeated_hour_is_refused(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    text = await reply(app, telegram, ADMIN, "/schedule checkin sun 02:10")
    assert "on Sun 25 October the clocks in Europe/Amsterdam go back and 02:10 happens" in text


async def test_a_time_zone_that_would_put_a_schedule_in_a_skipped_hour_is_refused(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/timezone UTC")
    assert "Europe/Amsterdam (from PULSE_TIMEZONE) → UTC" in text
    await reply(app, telegram, ADMIN, "/schedule checkin sun 02:30")
    assert (await stored(app)).checkin_time == "02:30"
    text = await reply(app, telegram, ADMIN, "/timezone Europe/Berlin")
    assert "Refused: on Sun 28 March the clocks in Europe/Berlin skip" in text
    assert (await stored(app)).timezone == "UTC"


async def test_pause_stops_scheduled_rounds_and_resume_starts_them_again(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    text = await reply(app, telegram, ADMIN, "/pause")
    assert "<b>Check-in rounds</b>: running → paused" in text
    assert "Next check-ins: none, check-ins are paused (/resume)." in text
    assert "the digest still goes out" in text
    services = services_of(app)
    await run_due_round(services)  # 10:00 on a Tuesday: the scheduled moment
    assert await services.db.read(lambda conn: fetch_all(conn, "SELECT id FROM rounds")) == []
    text = await reply(app, telegram, ADMIN, "/resume")
    assert "<b>Check-in rounds</b>: paused → running" in text
    assert "Next check-ins: Tue 24 November 10:00" in text
    await run_due_round(services)
    assert len(await services.db.read(lambda conn: fetch_all(conn, "SELECT id FROM rounds"))) == 1


async def test_every_change_is_in_the_audit_log_with_who_old_and_new(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await reply(app, telegram, ADMIN, "/schedule checkin mon-fri 09:30")
    clock.advance(timedelta(minutes=5))
    await reply(app, telegram, DUTCH_ADMIN, "/cooldown 14")
    entries = await services_of(app).db.read(lambda conn: audit.recent(conn, 10))
    assert [(e.actor_id, e.subject, e.old_value, e.new_value) for e in entries] == [
        (DUTCH_ADMIN.id, "cooldown_days", "30", "14"),
        (ADMIN.id, "checkin_time", '"10:00"', '"09:30"'),
        (ADMIN.id, "checkin_days", '["tue"]', '["mon", "tue", "wed", "thu", "fri"]'),
    ]
    text = await reply(app, telegram, ADMIN, "/audit 2")
    assert "<b>The last 2 changes</b>" in text
    assert "• Tue 17 November 10:05, 501: changed setting <b>cooldown_days</b>: 30 → 14" in text
    assert "checkin_days" not in text  # only 2 asked for
    text = await reply(app, telegram, ADMIN, "/audit")
    assert "checkin_days</b>: tue → mon,tue,wed,thu,fri" in text


async def test_an_update_acts_on_one_snapshot_of_the_settings(app: PulseApplication) -> None:
    # A change committed while an update is being handled (another admin's, say) reaches
    # the next update, never the rest of this one: its handlers share one read.
    services = services_of(app)
    update = builders.message(app.bot, CUSTOMER, "/frequency")
    context = PulseContext.from_update(update, app)
    first = await context.config()
    await services.db.write(
        lambda conn: runtime_settings.change(conn, "cooldown_days", 9, actor_id=ADMIN.id, now=0)
    )
    assert (await context.config()).cooldown_days == first.cooldown_days == 30
    assert await context.zone() == first.zone(services.settings.timezone)
    assert (await PulseContext.from_update(update, app).config()).cooldown_days == 9
