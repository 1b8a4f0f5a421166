"""Parsing admin command arguments: pure functions that return canonical values or raise.

Each failure carries a catalog key (under `admin.invalid.`) and its parameters, so the
handler can say in the admin's language what was wrong before it repeats the usage line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.common.excerpts import echo
from bot.common.sample_size import InvalidSampleSize, parse_sample_size
from storage.runtime_settings import Count

# Canonical weekday names, Monday first: what the settings store and cron triggers read.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# What an admin may type for each weekday, in English or Dutch, short or long.
_DAY_ALIASES = {
    "mon": ("mon", "monday", "ma", "maandag"),
    "tue": ("tue", "tues", "tuesday", "di", "dinsdag"),
    "wed": ("wed", "wednesday", "wo", "woensdag"),
    "thu": ("thu", "thur", "thurs", "thursday", "do", "donderdag"),
    "fri": ("fri", "friday", "vr", "vrijdag"),
    "sat": ("sat", "saturday", "za", "zaterdag"),
    "sun": ("sun", "sunday", "zo", "zondag"),
}
_DAY_OF = {alias: day for day, aliases in _DAY_ALIASES.items() for alias in aliases}
_TIME = re.compile(r"^([0-9]{1,2})[:.]([0-9]{2})$")
_HANDLE = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")
OFF_WORDS = frozenset({"off", "uit", "none", "geen"})
# An attribute a round is stratified by: a base file's column as stored (no quote, so it is
# safe in a JSON path), and not one of the columns every record has.
_ATTRIBUTE = re.compile(r"[\w.\-]{1,64}")
# The columns every customer base file has, in the order its header names them.
REQUIRED = ("external_id", "name", "segment", "language")
BASE_COLUMNS = frozenset(REQUIRED)

MAX_AUDIT = 50
DEFAULT_AUDIT = 10


class InvalidArgument(ValueError):
    """An argument an admin typed is not valid; `reason` is the catalog key saying why."""

    def __init__(self, reason: str, **params: object) -> None:
        # What the admin typed comes back only as a short excerpt.
        params = {k: echo(v) if isinstance(v, str) else v for k, v in params.items()}
        super().__init__(reason, params)
        self.reason = reason
        self.params = params


class WrongUsage(ValueError):
    """The arguments do not have the command's shape: the usage line says what it is."""


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule: which weekdays (canonical names, Monday first) and when."""

    kind: Literal["checkin", "digest"]
    days: tuple[str, ...]
    at: str  # HH:MM


def parse_time(text: str) -> str:
    """`HH:MM` (or `H:MM`, or with a dot as Dutch writes it) as canonical `HH:MM`."""
    match = _TIME.match(text.strip())
    if match is None:
        raise InvalidArgument("time", value=text)
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        raise InvalidArgument("time", value=text)
    return time(hours, minutes).strftime("%H:%M")


def parse_weekday(text: str) -> str:
    """One weekday name, English or Dutch, short or long, as its canonical name."""
    day = _DAY_OF.get(text.strip().lower().rstrip("."))
    if day is None:
        raise InvalidArgument("weekday", value=text)
    return day


def parse_weekdays(text: str) -> tuple[str, ...]:
    """Weekdays as a comma list of names and ranges (`tue,thu`, `mon-fri`, `fri-mon`).

    A range runs forward through the week and may wrap past Sunday. The result is in week
    order without repeats.
    """
    chosen: set[str] = set()
    # "tue, thu", "tue thu" and "mon - fri" are meant as "tue,thu" and "mon-fri".
    normal = re.sub(r"[\s,]+", ",", re.sub(r"\s*[-–]\s*", "-", text.strip()))
    parts = normal.split(",")
    if any(not part for part in parts):
        raise InvalidArgument("weekdays", value=text)
    for part in parts:
        if "-" in part:
            first, _, last = part.partition("-")
            start = WEEKDAYS.index(parse_weekday(first))
            end = WEEKDAYS.index(parse_weekday(last))
            length = (end - start) % 7 + 1
            chosen.update(WEEKDAYS[(start + i) % 7] for i in range(length))
        else:
            chosen.add(parse_weekday(part))
    return tuple(day for day in WEEKDAYS if day in chosen)


def parse_schedule(args: list[str]) -> Schedule:
    """`checkin <days> <HH:MM>` or `digest <day> <HH:MM>`; days may contain spaces."""
    if len(args) < 3 or args[0].lower() not in ("checkin", "digest"):
        raise WrongUsage(args)
    kind: Literal["checkin", "digest"] = "checkin" if args[0].lower() == "checkin" else "digest"
    at = parse_time(args[-1])
    days_text = " ".join(args[1:-1])
    if kind == "digest":
        if len(args) != 3 or re.search(r"[,-]", days_text):
            raise InvalidArgument("one_day", value=days_text)
        return Schedule(kind, (parse_weekday(days_text),), at)
    return Schedule(kind, parse_weekdays(days_text), at)


def parse_sample(args: list[str]) -> str:
    """`N` customers or `P%` of them, as the canonical text the settings store."""
    if not args:
        raise WrongUsage(args)
    text = "".join(args)
    try:
        return str(parse_sample_size(text))
    except InvalidSampleSize:
        raise InvalidArgument("sample", value=text) from None


def parse_sample_by(args: list[str]) -> str | None:
    """`by <attribute>` (a column of the base file, named as an import stores it: lower
    case, spaces as `_`), or `by off` for None."""
    if len(args) < 2 or args[0].lower() != "by":
        raise WrongUsage(args)
    text = " ".join(args[1:])
    if len(args) == 2 and text.lower() in OFF_WORDS:
        return None
    name = "_".join(part.lower() for part in args[1:])
    if not _ATTRIBUTE.fullmatch(name):
        raise InvalidArgument("sample_by", value=text)
    if name in BASE_COLUMNS:
        raise InvalidArgument("sample_by_column", value=text)
    return name


def parse_whole(args: list[str], *, low: int, high: int) -> int:
    """One whole number from `low` to `high`."""
    if len(args) != 1:
        raise WrongUsage(args)
    text = args[0].strip()
    if not text.isdecimal() or not low <= int(text) <= high:
        raise InvalidArgument("number", value=text, low=low, high=high)
    return int(text)


def parse_count(count: Count, args: list[str]) -> int | None:
    """A count setting's value: a whole number in its bounds, or None for `off` where it
    can be off."""
    if count.can_be_off and len(args) == 1 and args[0].lower() in OFF_WORDS:
        return None
    return parse_whole(args, low=count.low, high=count.high)


def parse_quiet(args: list[str]) -> tuple[str, str] | None:
    """`HH:MM-HH:MM` (may cross midnight), or None for `off`."""
    # Phones often turn the hyphen into an en dash.
    text = "".join(args).replace("–", "-")
    if text.lower() in OFF_WORDS:
        return None
    start, dash, end = text.partition("-")
    if not dash or not start or not end:
        raise WrongUsage(args)
    first, last = parse_time(start), parse_time(end)
    if first == last:
        raise InvalidArgument("quiet_empty", value=text)
    return first, last


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(args: list[str]) -> str:
    """An IANA time zone name (any capitalisation), as the database names it."""
    if len(args) != 1:
        raise WrongUsage(args)
    name = _zones().get(args[0].strip().lower())
    if name is None or name.lower() in ("localtime", "factory"):
        raise InvalidArgument("timezone", value=args[0])
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument("timezone", value=args[0]) from None
    return name


def parse_person(args: list[str]) -> int | str:
    """A Telegram user id (a positive whole number) or an @handle (lower-cased, no @)."""
    if len(args) != 1:
        raise WrongUsage(args)
    text = args[0].strip()
    if text.isdecimal():
        if int(text) <= 0:
            raise InvalidArgument("person", value=text)
        return int(text)
    match = _HANDLE.match(text)
    if match is None:
        raise InvalidArgument("person", value=text)
    return match[1].lower()


def parse_audit_count(args: list[str]) -> int:
    """How many audit entries to show: 1 to 50, 10 when not given."""
    if not args:
        return DEFAULT_AUDIT
    return parse_whole(args, low=1, high=MAX_AUDIT)
