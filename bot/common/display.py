"""How settings and schedules read in an admin's language: values, weekdays, next runs."""

from __future__ import annotations

import html
import re
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from bot.catalog import Catalog, Html
from bot.common.parsing import WEEKDAYS
from bot.common.schedule import compact_days, next_runs
from storage.runtime_settings import COUNTS, Count, RuntimeSettings

# The settings as admins see them, each a line of /settings under a catalog name
# (`admin.setting.<group>`): the fields that read as one line, and every count setting under
# its own name (`Count.name`). In the order of the fields.
_GROUP_OF = {
    "checkin_days": "checkin_schedule",
    "checkin_time": "checkin_schedule",
    "checkins_paused": "checkins",
    "sample_size": "sample",
    "sample_by": "sample_by",
    "quiet_start": "quiet",
    "quiet_end": "quiet",
    "timezone": "timezone",
    "digest_day": "digest_schedule",
    "digest_time": "digest_schedule",
    "catch_up_hours": "catch_up",
    "send_rate": "sending",
    "chat_interval": "sending",
    "alert_score": "alerts",
    "alert_quiet": "alert_quiet",
    **{name: count.name(name) for name, count in COUNTS.items()},
}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(_GROUP_OF[f.name] for f in fields(RuntimeSettings)))
# The count setting shown as each group, if it is one.
_COUNT_OF = {count.name(name): (name, count) for name, count in COUNTS.items()}
# Fields whose change moves the scheduled jobs.
SCHEDULE_FIELDS = frozenset(
    {"checkin_days", "checkin_time", "digest_day", "digest_time", "timezone", "catch_up_hours"}
)
RUNS_SHOWN = 3


def day_names(catalog: Catalog, language: str, days: tuple[str, ...]) -> str:
    """Weekdays in the language, three or more in a row as a range: "mon-fri", "ma, wo"."""
    names = dict(zip(WEEKDAYS, catalog.text(language, "admin.weekdays").split(","), strict=True))
    parts: list[str] = []
    for first, last in compact_days(days):
        span = WEEKDAYS.index(last) - WEEKDAYS.index(first)
        if span >= 2:
            parts.append(f"{names[first]}-{names[last]}")
        else:
            parts.extend(names[WEEKDAYS[WEEKDAYS.index(first) + i]] for i in range(span + 1))
    return ", ".join(parts)


def _count(catalog: Catalog, language: str, unit: str, count: int) -> str:
    return catalog.text(language, f"admin.units.{unit}", n=count)


def value_text(
    catalog: Catalog, language: str, group: str, config: RuntimeSettings, configured_zone: str
) -> Html:
    """One setting's value as the admin reads it."""
    text = catalog.text
    values: dict[str, Any]
    if group == "checkin_schedule":
        days = day_names(catalog, language, config.checkin_days)
        return text(language, "admin.value.schedule", days=days, time=config.checkin_time)
    if group == "digest_schedule":
        days = day_names(catalog, language, (config.digest_day,))
        return text(language, "admin.value.schedule", days=days, time=config.digest_time)
    if group == "checkins":
        return text(language, f"admin.value.{'paused' if config.checkins_paused else 'running'}")
    if group == "sample":
        size = config.sample_size
        if size.endswith("%"):
            return text(language, "admin.value.sample_percent", percent=size)
        return text(language, "admin.value.sample_count", count=int(size))
    if group == "sample_by":
        if config.sample_by is None:
            return text(language, "admin.value.off")
        return text(language, "admin.value.sample_by", attribute=config.sample_by)
    if group in _COUNT_OF:
        return _count_text(catalog, language, group, *_COUNT_OF[group], config)
    if group == "catch_up":
        hours = _count(catalog, language, "hours", config.catch_up_hours)
        return text(language, "admin.value.after", hours=hours)
    if group == "quiet":
        if config.quiet_start is None or config.quiet_end is None:
            return text(language, "admin.value.off")
        return text(language, "admin.value.quiet", start=config.quiet_start, end=config.quiet_end)
    if group == "timezone":
        if config.timezone is None:
            return text(language, "admin.value.zone_configured", zone=configured_zone)
        return text(language, "admin.value.zone", zone=config.timezone)
    if group == "alerts":
        if config.alert_score is None:
            return text(language, "admin.value.alerts_contact_only")
        return text(language, "admin.value.alerts", score=config.alert_score)
    if group == "alert_quiet":
        if config.alert_quiet is None:
            return text(language, "admin.value.off")
        start, _, end = config.alert_quiet.partition("-")
        return text(language, "admin.value.quiet", start=start, end=end)
    if group == "sending":
        values = {"rate": f"{config.send_rate:g}", "interval": f"{config.chat_interval:g}"}
        return text(language, "admin.value.sending", **values)
    raise KeyError(group)


def _count_text(
    catalog: Catalog, language: str, group: str, name: str, count: Count, config: RuntimeSettings
) -> Html:
    """A count setting's value: off, or its number of days or hours, in the group's own
    words when the catalog has them (`admin.value.<group>`), else as hours go ("after 24
    hours") or days do ("30 days")."""
    value = getattr(config, name)
    if value is None:
        return catalog.text(language, "admin.value.off")
    amount = _count(catalog, language, count.unit, value)
    own = f"admin.value.{group}"
    if own in catalog.keys(language):
        return catalog.text(language, own, **{count.unit: amount})
    if count.unit == "hours":
        return catalog.text(language, "admin.value.after", hours=amount)
    return Html(amount)


def plain_text(text: str) -> str:
    """Catalog HTML as plain text, for the command line."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def day_text(catalog: Catalog, language: str, day: date) -> Html:
    """A day with its weekday: "Sun 29 March"."""
    return Html(html.escape(catalog.date(language, day, weekday=True)))


def run_text(catalog: Catalog, language: str, moment: datetime) -> Html:
    """One run time: weekday, date and time ("Tue 24 November 10:00")."""
    return catalog.text(
        language,
        "admin.run",
        day=day_text(catalog, language, moment.date()),
        time=moment.strftime("%H:%M"),
    )


def checkin_runs(
    catalog: Catalog, language: str, config: RuntimeSettings, zone: str, now: datetime
) -> Html:
    """The line with the next check-in times, or that check-ins are paused."""
    if config.checkins_paused:
        return catalog.text(language, "admin.next_checkins_paused")
    runs = next_runs(config.checkin_days, config.checkin_time, zone, now, RUNS_SHOWN)
    listed = ", ".join(run_text(catalog, language, run) for run in runs)
    return catalog.text(language, "admin.next_checkins", runs=listed)


def digest_run(
    catalog: Catalog, language: str, config: RuntimeSettings, zone: str, now: datetime
) -> Html:
    """The line with the next digest time."""
    run = next_runs((config.digest_day,), config.digest_time, zone, now, 1)[0]
    return catalog.text(language, "admin.next_digest", run=run_text(catalog, language, run))


def settings_text(
    catalog: Catalog,
    language: str,
    config: RuntimeSettings,
    configured_zone: str,
    now: datetime,
) -> Html:
    """/settings and `pulsebot settings`: every setting, and the next runs."""
    zone = config.zone_name(configured_zone)
    lines: list[str] = [catalog.text(language, "admin.settings_title")]
    lines += [
        catalog.text(
            language,
            "admin.line",
            setting=catalog.text(language, f"admin.setting.{group}"),
            value=value_text(catalog, language, group, config, configured_zone),
        )
        for group in GROUPS
    ]
    lines += [
        "",
        checkin_runs(catalog, language, config, zone, now),
        digest_run(catalog, language, config, zone, now),
    ]
    return Html("\n".join(lines))
