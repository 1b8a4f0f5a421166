"""How settings and schedules read in an admin's language: values, weekdays, next runs."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from typing import Any

from bot.catalog import Catalog, Html
from bot.common.parsing import WEEKDAYS
from bot.common.schedule import compact_days, next_runs
from storage.runtime_settings import RuntimeSettings

# The settings as admins see and change them: a name in the catalog, and its fields.
GROUPS: dict[str, tuple[str, ...]] = {
    "checkin_schedule": ("checkin_days", "checkin_time"),
    "checkins": ("checkins_paused",),
    "sample": ("sample_size",),
    "sample_by": ("sample_by",),
    "cooldown": ("cooldown_days",),
    "notnow": ("notnow_days",),
    "retention": ("retention_days",),
    "reminder": ("reminder_hours",),
    "expiry": ("expiry_hours",),
    "quiet": ("quiet_start", "quiet_end"),
    "timezone": ("timezone",),
    "digest_schedule": ("digest_day", "digest_time"),
    "catch_up": ("catch_up_hours",),
    "sending": ("send_rate", "chat_interval"),
    "alerts": ("alert_score",),
    "alert_quiet": ("alert_quiet",),
}
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
    if group == "cooldown":
        return Html(_count(catalog, language, "days", config.cooldown_days))
    if group == "notnow":
        return Html(_count(catalog, language, "days", config.notnow_days))
    if group == "retention":
        if config.retention_days is None:
            return text(language, "admin.value.off")
        days = _count(catalog, language, "days", config.retention_days)
        return text(language, "admin.value.retention", days=days)
    if group in ("reminder", "expiry", "catch_up"):
        hours = {
            "reminder": config.reminder_hours,
            "expiry": config.expiry_hours,
            "catch_up": config.catch_up_hours,
        }[group]
        if hours is None:
            return text(language, "admin.value.off")
        return text(language, "admin.value.after", hours=_count(catalog, language, "hours", hours))
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
