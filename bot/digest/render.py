"""The digest as Telegram HTML in the reader's language: figures in, message parts out.

Every customer word goes through the catalog's escaping; a part never passes Telegram's
4096 characters, and the split falls between lines so no HTML tag is cut in two.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.catalog import Catalog, Html
from bot.common import segment_names
from bot.common.excerpts import trim_quote
from bot.common.replying import split_message
from bot.digest import statistics
from bot.digest.figures import (
    DigestFigures,
    FollowUp,
    HypothesisFigures,
    MissingFigures,
    ThemeFigures,
)
from bot.digest.statistics import Estimate, Scores

BARS = "▁▂▃▄▅▆▇█"
# A follow-up's own words are cut here: enough to act on, and many fit in one message.
FOLLOW_UP_CHARS = 300
# A digest is read in two minutes: the largest themes and the first follow-ups (contact
# requests first, then the lowest scores), with a pointer to the rest.
THEMES_SHOWN = 6
FOLLOW_UPS_SHOWN = 15
MINUS = "−"


class _Writer:
    """Formats numbers and texts for one reader."""

    def __init__(self, catalog: Catalog, language: str) -> None:
        self.catalog = catalog
        self.language = language

    def text(self, key: str, **params: object) -> Html:
        return self.catalog.text(self.language, f"digest.{key}", **params)

    def segment(self, name: str) -> str:
        """A segment's name as this reader reads it (the built-in one translated)."""
        return segment_names.shown(self.catalog, self.language, name)

    def number(self, value: float, decimals: int = 1) -> str:
        return self.catalog.number(self.language, value, decimals)

    def percent(self, rate: float | None) -> str:
        return "–" if rate is None else f"{round(rate * 100)} %"

    def signed(self, value: float, decimals: int) -> str:
        shown = self.number(abs(value), decimals)
        if shown == self.number(0, decimals):
            return "±" + shown
        return ("+" if value > 0 else MINUS) + shown

    def change(self, delta: float | None, decimals: int = 0, points: bool = False) -> Html:
        """ " (+3)" after a figure, or nothing when there is no earlier figure."""
        if delta is None:
            return Html("")
        shown = self.signed(delta, decimals)
        if points:
            shown = self.text("points", value=shown)
        return self.text("change", delta=Html(shown) if points else shown)


def _date(catalog: Catalog, language: str, moment: datetime) -> str:
    return catalog.date(language, moment)


def distribution_bar(scores: Scores) -> str:
    """The 1–5 distribution as five labelled bars scaled to the most common score."""
    top = max(scores)
    cells = []
    for score, count in enumerate(scores, start=1):
        # A score nobody gave shows no bar at all, so "none" and "few" look different.
        bar = BARS[round(count / top * (len(BARS) - 1))] if count else " "
        cells.append(f"{score}{bar}")
    return " ".join(cells)


def _overview(w: _Writer, f: DigestFigures) -> list[str]:
    rate = statistics.rate(f.answered, f.invited)
    previous_rate = statistics.rate(f.previous_answered, f.previous_invited)
    had_previous = f.previous_invited > 0
    rate_change = statistics.change(rate, previous_rate)
    return [
        w.text(
            "overview",
            invited=f.invited,
            invited_change=w.change(f.invited - f.previous_invited if had_previous else None),
            answered=f.answered,
            answered_change=w.change(f.answered - f.previous_answered if had_previous else None),
            rate=w.percent(rate),
            rate_change=w.change(None if rate_change is None else rate_change * 100, 0, True),
        )
    ]


def _pulse(w: _Writer, f: DigestFigures) -> list[str]:
    lines: list[str] = [w.text("pulse_title")]
    count = statistics.count(f.scores)
    if count == 0:
        return [*lines, w.text("pulse_none")]
    if f.raw is None:
        return [*lines, w.text("pulse_too_few", count=count)]
    previous = f.previous_raw.mean if f.previous_raw else None
    lines.append(
        w.text(
            "pulse_mean",
            mean=w.number(f.raw.mean),
            change=w.change(statistics.change(f.raw.mean, previous), 1),
            low=w.number(f.raw.low),
            high=w.number(f.raw.high),
            count=count,
        )
    )
    lines.append(
        w.text(
            "distribution",
            bar=distribution_bar(f.scores),
            counts=" · ".join(str(n) for n in f.scores),
        )
    )
    if f.weighted is not None:
        lines.append(_estimate(w, "pulse_weighted", f.weighted))
        if f.missing:
            lines += _missing(w, f.missing)
            if f.weighted_answered is not None:
                lines.append(_estimate(w, "pulse_answered_only", f.weighted_answered))
    return lines


def _missing(w: _Writer, missing: tuple[MissingFigures, ...]) -> list[str]:
    """Which segments the weighted score has no score from, and how it counts them."""
    names = ", ".join(w.segment(m.name) for m in missing)
    stand_ins = [
        w.text(
            "missing_earlier" if m.from_earlier else "missing_middle",
            name=w.segment(m.name),
            value=w.number(m.stand_in),
        )
        for m in missing
    ]
    return [
        w.text(
            "pulse_missing",
            segments=names,
            share=w.percent(sum(m.share for m in missing)),
            stand_ins=Html("; ".join(stand_ins)),
        )
    ]


def _estimate(w: _Writer, key: str, estimate: Estimate) -> str:
    return w.text(
        key,
        mean=w.number(estimate.mean),
        low=w.number(estimate.low),
        high=w.number(estimate.high),
    )


def _segments(w: _Writer, f: DigestFigures) -> list[str]:
    if not f.segments:
        return []
    lines: list[str] = [w.text("segments_title")]
    if f.by_answers:
        lines.append(_allocation(w, f))
    for s in f.segments:
        if s.invited == 0:
            lines.append(
                w.text("segment_line_idle", name=w.segment(s.name), population=s.population)
            )
            continue
        lines.append(
            w.text(
                "segment_line",
                name=w.segment(s.name),
                answered=s.answered,
                invited=s.invited,
                rate=w.percent(statistics.rate(s.answered, s.invited)),
                mean="–" if s.mean is None else w.number(s.mean),
            )
        )
    return lines


def _allocation(w: _Writer, f: DigestFigures) -> str:
    """How the sample was split: per segment its share of the base, how many were invited,
    the response rate the split expected and so the answers it expected."""
    parts = [
        w.text(
            "allocation_part",
            name=w.segment(s.name),
            share=w.percent(s.share),
            invited=s.invited,
            rate=w.percent(s.expected_rate),
            expected=w.number(s.invited * s.expected_rate),
        )
        for s in f.segments
        if s.expected_rate is not None and s.share
    ]
    return w.text("allocation", parts=Html("; ".join(parts)))


def _base(w: _Writer, f: DigestFigures) -> list[str]:
    """Each segment against the customer base, and the segments too few of whose customers
    are enrolled for their answers to speak for them."""
    if not f.base:
        return []

    def text(key: str, **params: object) -> Html:
        return w.catalog.text(w.language, f"base.{key}", **params)

    lines: list[str] = [text("coverage_title")]
    for s in f.base:
        lines.append(
            text(
                "coverage_line",
                segment=w.segment(s.name),
                enrolled=s.enrolled,
                base=s.base,
                enrolled_share=w.percent(s.enrolled / s.base),
                answered=s.answered,
                answered_share=w.percent(s.answered / s.base),
            )
        )
    lines += [
        text(
            "coverage_thin",
            segment=w.segment(s.name),
            share=w.percent(s.enrolled / s.base),
            median=w.percent(s.median),
        )
        for s in f.base
        if s.thin
    ]
    return lines


def _coverage(w: _Writer, f: DigestFigures) -> list[str]:
    warnings = [
        w.text(
            "silent_at_least" if s.at_least else "silent", name=w.segment(s.name), weeks=s.weeks
        )
        for s in f.silent
    ] + [
        w.text(
            "low_response",
            name=w.segment(s.name),
            rate=w.percent(s.rate),
            rest=w.percent(s.rest_rate),
        )
        for s in f.low_response
    ]
    return [w.text("coverage_title"), *warnings] if warnings else []


def _themes(w: _Writer, title: str, found: tuple[ThemeFigures, ...], answers: int) -> list[str]:
    lines: list[str] = [w.text(title)]
    if answers == 0:
        return [*lines, w.text("themes_none")]
    if not found:
        return [*lines, w.text("themes_scattered", count=answers)]
    for theme in found[:THEMES_SHOWN]:
        trend = w.text(f"trend_{theme.trend}") if theme.trend else ""
        params = {
            "label": theme.label(w.language),
            "count": theme.count,
            "quote": theme.quote,
            "trend": trend,
        }
        if theme.quoted:
            lines.append(w.text("theme_line_named", name=theme.quoted, **params))
        else:
            lines.append(w.text("theme_line", **params))
    if len(found) > THEMES_SHOWN:
        lines.append(w.text("themes_more", count=len(found) - THEMES_SHOWN))
    return lines


def _follow_up(w: _Writer, person: FollowUp) -> list[str]:
    if person.contact and person.score is not None and person.score <= 2:
        what = w.text("followup_contact_score", score=person.score)
    elif person.contact:
        what = w.text("followup_contact")
    else:
        what = w.text("followup_score", score=person.score)
    handle = Html(html.escape(f" @{person.username}" if person.username else "", quote=False))
    if person.external_id is not None:
        # The company's own id, so staff can open the account in their system.
        number = w.catalog.text(w.language, "base.external_id", id=person.external_id)
        handle = Html(handle + number)
    segment = w.segment(person.segment)
    lines: list[str] = [
        w.text("followup_line", name=person.name, handle=handle, segment=segment, what=what)
    ]
    if person.challenge:
        lines.append(
            w.text("followup_challenge", text=trim_quote(person.challenge, FOLLOW_UP_CHARS))
        )
    if person.improvement:
        lines.append(
            w.text("followup_improvement", text=trim_quote(person.improvement, FOLLOW_UP_CHARS))
        )
    return lines


def _hypotheses(w: _Writer, found: tuple[HypothesisFigures, ...]) -> list[str]:
    if not found:
        return []
    lines: list[str] = [w.text("hypotheses_title")]
    for h in found:
        verdict = w.catalog.text(w.language, f"hypotheses.status.{h.evidence.status.value}")
        text = h.text_nl if w.language == "nl" else h.text_en
        lines.append(w.text("hypothesis_line", id=h.id, text=text, verdict=verdict))
        if h.yes + h.partly + h.no == 0:
            lines.append(w.text("hypothesis_none_this_week", total=h.evidence.answers))
        else:
            lines.append(
                w.text(
                    "hypothesis_figures",
                    yes=h.yes,
                    partly=h.partly,
                    no=h.no,
                    total=h.evidence.answers,
                    share=w.percent(h.evidence.share),
                    low=w.percent(h.evidence.low),
                    high=w.percent(h.evidence.high),
                    change=w.change(None if h.change is None else h.change * 100, 0, True),
                )
            )
        if h.quote:
            lines.append(w.text("hypothesis_quote", quote=h.quote))
    return lines


def _follow_ups(w: _Writer, people: tuple[FollowUp, ...]) -> list[str]:
    lines: list[str] = [w.text("followups_title")]
    if not people:
        return [*lines, w.text("followups_none")]
    for person in people[:FOLLOW_UPS_SHOWN]:
        lines += _follow_up(w, person)
    if len(people) > FOLLOW_UPS_SHOWN:
        lines.append(w.text("followups_more", count=len(people) - FOLLOW_UPS_SHOWN))
    return lines


def render(
    catalog: Catalog,
    language: str,
    figures: DigestFigures,
    zone: ZoneInfo,
) -> list[str]:
    """The digest's message parts, each within Telegram's limit."""
    w = _Writer(catalog, language)
    start = datetime.fromtimestamp(figures.start, zone)
    end = datetime.fromtimestamp(figures.end, zone)
    sections: list[list[str]] = [
        [
            w.text(
                "title",
                start=_date(catalog, language, start),
                end=_date(catalog, language, end),
            ),
            *_overview(w, figures),
        ],
        _pulse(w, figures),
        _segments(w, figures),
        _base(w, figures),
        _coverage(w, figures),
        _themes(w, "challenges_title", figures.challenges, figures.challenge_answers),
        _themes(w, "improvements_title", figures.improvements, figures.improvement_answers),
        _hypotheses(w, figures.hypotheses),
        _follow_ups(w, figures.follow_ups),
    ]
    text = "\n\n".join("\n".join(section) for section in sections if section)
    return split_message(text)
