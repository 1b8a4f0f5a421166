"""The digest's message: customer words escaped, numbers in the reader's language, and
parts that Telegram accepts (each valid HTML, within 4096 characters)."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.catalog import Catalog
from bot.digest.figures import (
    DigestFigures,
    FollowUp,
    LowResponseFigures,
    SegmentFigures,
    SilentFigures,
    ThemeFigures,
)
from bot.digest.render import FOLLOW_UPS_SHOWN, THEMES_SHOWN, distribution_bar, render
from bot.digest.statistics import Estimate
from sandbox.entities import check_length, parse_html

ZONE = ZoneInfo("Europe/Amsterdam")
CATALOG = Catalog.load()
# Monday 16 to Monday 23 November 2026, 09:00 in Amsterdam.
START, END = 1_794_816_000, 1_795_420_800


def figures(**changes: object) -> DigestFigures:
    base = DigestFigures(
        start=START,
        end=END,
        invited=20,
        answered=15,
        previous_invited=18,
        previous_answered=16,
        scores=(1, 2, 3, 5, 4),
        previous_scores=(0, 2, 4, 6, 4),
        raw=Estimate(3.6, 3.0, 4.2),
        weighted=Estimate(3.5, 2.9, 4.1),
        previous_raw=Estimate(3.75, 3.3, 4.2),
        segments=(
            SegmentFigures("retail", 120, 12, 10, 3.8),
            SegmentFigures("online", 40, 0, 0, None),
        ),
        silent=(SilentFigures("online", 4, False),),
        low_response=(LowResponseFigures("wholesale", 0.2, 0.7),),
        challenge_answers=7,
        challenges=(
            ThemeFigures(
                {"en": "delivery", "nl": "levering"}, 4, "Deliveries are <late> & slow", None
            ),
        ),
        improvement_answers=3,
        improvements=(),
        follow_ups=(
            FollowUp("Eve <b>", "eve", "retail", 1, True, "I need <help>", None),
            FollowUp("Ben", None, "online", 2, False, None, "Call me & soon"),
        ),
        weeks=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def text_of(parts: list[str]) -> str:
    return "\n".join(parts)


def test_customer_words_are_escaped_everywhere_they_appear() -> None:
    text = text_of(render(CATALOG, "en", figures(), ZONE))
    assert "“Deliveries are &lt;late&gt; &amp; slow”" in text
    assert "<b>Eve &lt;b&gt;</b> @eve · retail · asks to be contacted, score 1" in text
    assert "Challenge: “I need &lt;help&gt;”" in text
    assert "Better: “Call me &amp; soon”" in text
    assert "<late>" not in text


def test_figures_and_changes_read_as_a_person_would_write_them() -> None:
    english = text_of(render(CATALOG, "en", figures(), ZONE))
    assert "<b>Pulse digest</b> · 16 November – 23 November" in english
    assert "Invited 20 (+2) · answered 15 (−1) · response 75 % (−14 pts)" in english
    assert "Mean score <b>3.6</b> of 5 (−0.1) (95 %: 3.0–4.2), 15 answers" in english
    assert "Weighted by segment size: <b>3.5</b> (95 %: 2.9–4.1)" in english
    assert "• retail: 10 of 12 answered (83 %), mean 3.8" in english
    assert "• online: nobody invited this week (40 customers)" in english
    assert "⚠️ online: no answers for 4 weeks." in english
    assert "⚠️ wholesale answers at 20 % against 70 % elsewhere" in english
    assert "3 answers, no recurring theme yet." in english
    dutch = text_of(render(CATALOG, "nl", figures(), ZONE))
    assert "Gemiddelde score <b>3,6</b> van 5 (−0,1) (95 %: 3,0–4,2)" in dutch
    assert "respons 75 % (−14 ptn)" in dutch


def test_a_first_week_shows_no_changes_and_too_few_scores_no_mean() -> None:
    first = figures(
        previous_invited=0,
        previous_answered=0,
        scores=(0, 1, 1, 1, 0),
        previous_scores=(0, 0, 0, 0, 0),
        raw=None,
        weighted=None,
        previous_raw=None,
    )
    text = text_of(render(CATALOG, "en", first, ZONE))
    assert "Invited 20 · answered 15 · response 75 %\n" in text
    assert "Only 3 scores this week: too few to draw a conclusion." in text
    assert "Mean score" not in text


def test_the_distribution_bar_scales_to_the_most_given_score() -> None:
    # Eight heights: round(count / 5 × 7) gives 1, 3, 4, 7 and 6.
    assert distribution_bar((1, 2, 3, 5, 4)) == "1▂ 2▄ 3▅ 4█ 5▇"
    assert distribution_bar((0, 0, 0, 0, 0)) == "1  2  3  4  5 "


def test_a_long_digest_is_split_into_valid_parts_and_caps_its_lists() -> None:
    long_words = "word " * 70
    people = tuple(
        FollowUp(f"Person{k}", f"p{k}", "retail", 1, True, long_words, long_words)
        for k in range(40)
    )
    themes = tuple(
        ThemeFigures({"en": f"theme{k}"}, 10 - k, long_words[:120], None) for k in range(9)
    )
    parts = render(CATALOG, "en", figures(follow_ups=people, challenges=themes), ZONE)
    assert len(parts) > 1
    for part in parts:
        # The sandbox parses as Telegram does: an unclosed tag or a part over 4096 fails.
        check_length(parse_html(part))
    text = text_of(parts)
    shown = [k for k in range(40) if f"<b>Person{k}</b>" in text]
    assert shown == list(range(FOLLOW_UPS_SHOWN))
    assert f"…and {40 - FOLLOW_UPS_SHOWN} more: /export has every answer." in text
    assert text.count("<b>theme") == THEMES_SHOWN
    assert "…and more themes with fewer answers (3)." in text
