"""Admin command arguments: each parser with good and bad input, and schedule arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.admin.validation import check
from bot.checkins.questions import parse_question, parse_reset, parse_set, reworded
from bot.common import parsing
from bot.common.parsing import InvalidArgument, Schedule, WrongUsage
from bot.common.schedule import compact_days, first_clash, next_runs
from bot.running import scheduling
from bot.segments.management import split_rename
from storage.runtime_settings import COUNTS, RuntimeSettings

AMSTERDAM = "Europe/Amsterdam"
# Tuesday 17 November 2026, 09:00 UTC (10:00 in Amsterdam).
NOW = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10:00", "10:00"), ("9:30", "09:30"), ("09.30", "09:30"), ("00:00", "00:00"),
     ("23:59", "23:59"), (" 7:05 ", "07:05")],
)  # fmt: skip
def test_times_are_read_in_24_hour_notation(text: str, expected: str) -> None:
    assert parsing.parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "24:00", "10:60", "10", "10:5", "ten", "", "1:2:3"])
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parsing.parse_time(text)
    assert refused.value.reason == "time"


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_time_of_day_reads_back_as_written(hours: int, minutes: int) -> None:
    assert parsing.parse_time(f"{hours}:{minutes:02d}") == f"{hours:02d}:{minutes:02d}"


@given(st.text(max_size=12))
def test_no_text_crashes_the_time_parser(text: str) -> None:
    try:
        result = parsing.parse_time(text)
    except InvalidArgument:
        return
    hours, minutes = result.split(":")
    assert 0 <= int(hours) <= 23
    assert 0 <= int(minutes) <= 59


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tue,thu", ("tue", "thu")),
        ("mon-fri", ("mon", "tue", "wed", "thu", "fri")),
        ("thu, tue", ("tue", "thu")),
        ("tue thu", ("tue", "thu")),
        ("mon - wed", ("mon", "tue", "wed")),
        ("fri-mon", ("mon", "fri", "sat", "sun")),
        ("ma-vr", ("mon", "tue", "wed", "thu", "fri")),
        ("Dinsdag,DONDERDAG", ("tue", "thu")),
        ("mon-wed,fri", ("mon", "tue", "wed", "fri")),
        ("sun", ("sun",)),
        ("mon–fri", ("mon", "tue", "wed", "thu", "fri")),
    ],
)
def test_weekdays_read_lists_ranges_and_dutch_names(text: str, expected: tuple[str, ...]) -> None:
    assert parsing.parse_weekdays(text) == expected


@pytest.mark.parametrize("text", ["", ",", "funday", "mon-", "-fri", "mon-xyz", "1-5"])
def test_unknown_weekdays_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parsing.parse_weekdays(text)


@given(st.sets(st.sampled_from(parsing.WEEKDAYS), min_size=1))
def test_a_days_list_reads_back_in_week_order(days: set[str]) -> None:
    text = ",".join(sorted(days))
    assert parsing.parse_weekdays(text) == tuple(d for d in parsing.WEEKDAYS if d in days)


def test_weekday_names_are_the_ones_the_scheduler_uses() -> None:
    assert parsing.WEEKDAYS == scheduling.WEEKDAYS


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["checkin", "tue,thu", "10:00"], Schedule("checkin", ("tue", "thu"), "10:00")),
        (["checkin", "mon-fri", "9:30"], Schedule("checkin", parsing.WEEKDAYS[:5], "09:30")),
        (["checkin", "tue,", "thu", "10:00"], Schedule("checkin", ("tue", "thu"), "10:00")),
        (["Digest", "maandag", "08:15"], Schedule("digest", ("mon",), "08:15")),
    ],
)
def test_schedules_read_kind_days_and_time(args: list[str], expected: Schedule) -> None:
    assert parsing.parse_schedule(args) == expected


@pytest.mark.parametrize(
    "args", [[], ["checkin"], ["checkin", "10:00"], ["weekly", "mon", "10:00"], ["tue", "10:00"]]
)
def test_a_schedule_of_the_wrong_shape_gets_the_usage_line(args: list[str]) -> None:
    with pytest.raises(WrongUsage):
        parsing.parse_schedule(args)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["checkin", "tue", "25:00"], "time"),
        (["checkin", "someday", "10:00"], "weekday"),
        (["digest", "mon-fri", "09:00"], "one_day"),
        (["digest", "mon,tue", "09:00"], "one_day"),
    ],
)
def test_a_schedule_with_a_bad_part_says_which(args: list[str], reason: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parsing.parse_schedule(args)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["50"], "50"), (["10%"], "10%"), (["12,5%"], "12.5%"), (["15", "%"], "15%")],
)
def test_sample_sizes_are_counts_or_percentages(args: list[str], expected: str) -> None:
    assert parsing.parse_sample(args) == expected


@pytest.mark.parametrize("args", [["0"], ["0%"], ["101%"], ["-5"], ["many"], ["100001"]])
def test_impossible_sample_sizes_are_refused(args: list[str]) -> None:
    with pytest.raises(InvalidArgument):
        parsing.parse_sample(args)


def parse_cooldown(args: list[str]) -> int | None:
    return parsing.parse_count(COUNTS["cooldown_days"], args)


def parse_expiry(args: list[str]) -> int | None:
    return parsing.parse_count(COUNTS["expiry_hours"], args)


def parse_reminder(args: list[str]) -> int | None:
    return parsing.parse_count(COUNTS["reminder_hours"], args)


def test_numbers_must_be_whole_and_in_range() -> None:
    assert parse_cooldown(["0"]) == 0
    assert parse_cooldown(["365"]) == 365
    assert parse_expiry(["72"]) == 72
    for bad in (["366"], ["-1"], ["1.5"], ["ten"]):
        with pytest.raises(InvalidArgument):
            parse_cooldown(bad)
    for wrong in ([], ["1", "2"]):
        with pytest.raises(WrongUsage):
            parse_expiry(wrong)
    with pytest.raises(InvalidArgument):
        parse_expiry(["0"])
    with pytest.raises(InvalidArgument):
        parse_expiry(["off"])  # an expiry cannot be off


def test_a_reminder_is_hours_or_off_in_either_language() -> None:
    assert parse_reminder(["24"]) == 24
    assert parse_reminder(["off"]) is None
    assert parse_reminder(["UIT"]) is None
    with pytest.raises(InvalidArgument):
        parse_reminder(["0"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["20:00-09:00"], ("20:00", "09:00")),
        (["22:30", "-", "7:00"], ("22:30", "07:00")),
        (["12:00–13:00"], ("12:00", "13:00")),
        (["off"], None),
    ],
)
def test_quiet_hours_are_a_window_or_off(
    args: list[str], expected: tuple[str, str] | None
) -> None:
    assert parsing.parse_quiet(args) == expected


def test_quiet_hours_must_be_a_real_window() -> None:
    with pytest.raises(InvalidArgument) as empty:
        parsing.parse_quiet(["09:00-09:00"])
    assert empty.value.reason == "quiet_empty"
    with pytest.raises(InvalidArgument):
        parsing.parse_quiet(["20:00-25:00"])
    with pytest.raises(WrongUsage):
        parsing.parse_quiet(["20:00"])


def test_time_zones_are_iana_names_in_any_case() -> None:
    assert parsing.parse_timezone(["europe/amsterdam"]) == AMSTERDAM
    assert parsing.parse_timezone(["America/New_York"]) == "America/New_York"
    assert parsing.parse_timezone(["UTC"]) == "UTC"
    for bad in (["Mars/Olympus"], ["CEST"], ["localtime"], ["../../etc/passwd"], ["+02:00"]):
        with pytest.raises(InvalidArgument):
            parsing.parse_timezone(bad)
    with pytest.raises(WrongUsage):
        parsing.parse_timezone(["Europe/Amsterdam", "please"])


def test_people_are_ids_or_handles() -> None:
    assert parsing.parse_person(["12345"]) == 12345
    assert parsing.parse_person(["@Anne_Admin"]) == "anne_admin"
    assert parsing.parse_person(["bram_nl"]) == "bram_nl"
    for bad in (["0"], ["@a"], ["@1abc"], ["anne smith"], ["@anne-smith"]):
        with pytest.raises(InvalidArgument):
            parsing.parse_person(bad)


def test_audit_counts_default_to_ten_and_stop_at_fifty() -> None:
    assert parsing.parse_audit_count([]) == 10
    assert parsing.parse_audit_count(["3"]) == 3
    with pytest.raises(InvalidArgument):
        parsing.parse_audit_count(["51"])


def test_question_commands_name_a_question_a_language_and_the_words() -> None:
    raw = "set challenge nl   Waar   lig je wakker van?"
    assert parse_set(raw.split(), raw) == ("challenge", "nl", "Waar lig je wakker van?")
    assert parse_question("2") == "challenge"
    assert parse_reset(["reset"]) is None
    assert parse_reset(["reset", "score"]) == "score"
    with pytest.raises(InvalidArgument):
        parse_set(["set", "mood", "nl", "Hoe?"], "set mood nl Hoe?")
    with pytest.raises(InvalidArgument):
        parse_set(["set", "score", "de", "Wie?"], "set score de Wie?")
    with pytest.raises(WrongUsage):
        parse_set(["set", "score", "en"], "set score en")
    long = "set score en " + "x" * 301
    with pytest.raises(InvalidArgument):
        parse_set(long.split(), long)


@given(st.text(max_size=80))
def test_a_new_wording_is_escaped_and_never_breaks_the_template(words: str) -> None:
    template = "Hi {name}!\n\n<b>How are things?</b>"
    result = reworded(template, words)
    filled = result.format(name="Anne")  # must stay a valid template
    assert filled.startswith("Hi Anne!")
    assert "<b>" in filled
    assert "<" not in filled.split("<b>", 1)[1].removesuffix("</b>")


def test_segment_renames_split_at_an_arrow_or_after_a_known_name() -> None:
    names = ["retail", "big retail", "general"]
    assert split_rename("retail -> shops", names) == ("retail", "shops")
    assert split_rename("big retail → large shops", names) == ("big retail", "large shops")
    assert split_rename("big retail large shops", names) == ("big retail", "large shops")
    assert split_rename("retail shops", names) == ("retail", "shops")
    assert split_rename("unknown new", names) == ("unknown", "new")
    with pytest.raises(WrongUsage):
        split_rename("no such thing here", names)
    with pytest.raises(WrongUsage):
        split_rename("retail ->", names)


def test_next_runs_follow_the_days_in_the_zone() -> None:
    zone = ZoneInfo(AMSTERDAM)
    runs = next_runs(("tue", "thu"), "10:00", AMSTERDAM, NOW, 3)
    # 10:00 on Tuesday 17 November is this very moment, so not "next".
    assert [r.replace(tzinfo=None) for r in runs] == [
        datetime(2026, 11, 19, 10, 0),
        datetime(2026, 11, 24, 10, 0),
        datetime(2026, 11, 26, 10, 0),
    ]
    assert all(r.tzinfo == zone for r in runs)


def test_next_runs_keep_the_wall_clock_across_a_clock_change() -> None:
    before = datetime(2026, 10, 14, 12, 0, tzinfo=UTC)  # Sundays 18 and 25 October
    runs = next_runs(("sun",), "10:00", AMSTERDAM, before, 2)
    assert [r.hour for r in runs] == [10, 10]
    assert [r.utcoffset() for r in runs] == [
        datetime(2026, 7, 1, tzinfo=ZoneInfo(AMSTERDAM)).utcoffset(),
        datetime(2026, 12, 1, tzinfo=ZoneInfo(AMSTERDAM)).utcoffset(),
    ]


def test_a_time_in_the_skipped_or_repeated_hour_is_found() -> None:
    skipped = first_clash(("sun",), "02:30", AMSTERDAM, NOW)
    assert skipped is not None
    assert (skipped.kind, skipped.day) == ("skipped", date(2027, 3, 28))
    repeated = first_clash(("sun",), "02:30", AMSTERDAM, datetime(2026, 10, 1, tzinfo=UTC))
    assert repeated is not None
    assert (repeated.kind, repeated.day) == ("repeated", date(2026, 10, 25))
    # The same hour on weekdays never meets a clock change in Europe, nor any hour in UTC.
    assert first_clash(parsing.WEEKDAYS[:5], "02:30", AMSTERDAM, NOW) is None
    assert first_clash(("sun",), "02:30", "UTC", NOW) is None
    assert first_clash(("sun",), "03:00", AMSTERDAM, NOW) is None


def test_settings_that_do_not_fit_together_are_refused_with_a_reason() -> None:
    late = RuntimeSettings(reminder_hours=80, expiry_hours=72)
    with pytest.raises(InvalidArgument) as refused:
        check(late, {"reminder_hours"}, AMSTERDAM, NOW)
    assert refused.value.reason == "reminder_after_expiry"
    night = RuntimeSettings(checkin_days=("sun",), checkin_time="02:15")
    with pytest.raises(InvalidArgument) as clash:
        check(night, {"checkin_time"}, AMSTERDAM, NOW)
    assert clash.value.reason == "dst_skipped"
    assert clash.value.params["schedule"] == "checkin"
    # A clash that was there before does not block an unrelated change.
    check(night, {"cooldown_days"}, AMSTERDAM, NOW)
    # Moving to a zone without clock changes makes the same schedule fine.
    check(RuntimeSettings(checkin_days=("sun",), checkin_time="02:15", timezone="UTC"),
          {"timezone"}, AMSTERDAM, NOW)  # fmt: skip


def test_consecutive_days_are_grouped_for_display() -> None:
    assert compact_days(("mon", "tue", "wed", "fri")) == [("mon", "wed"), ("fri", "fri")]
    assert compact_days(("sun",)) == [("sun", "sun")]
