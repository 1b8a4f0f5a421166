"""The word-based themes (the fallback without the sentence model) on a Dutch and English
fixture corpus whose expected themes were written down before the code, and on edge cases."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.common.excerpts import trim_quote
from bot.digest.word_themes import ELLIPSIS, QUOTE_LENGTH, Answer, Theme, find_themes

CORPUS = tomllib.loads((Path(__file__).parent / "fixtures" / "themes.toml").read_text("utf-8"))


def corpus(name: str) -> list[Answer]:
    """The fixture corpus `name` as answers."""
    return [
        Answer(row["id"], row["text"], row["language"], row["contact"])
        for row in CORPUS[name]["answers"]
    ]


def answers(*texts: str, language: str = "en") -> list[Answer]:
    """Answers with ids 1, 2, … for `texts`."""
    return [Answer(index, text, language) for index, text in enumerate(texts, start=1)]


def check_quote(theme: Theme, given: list[Answer]) -> None:
    """The quote is one of the theme's answers, trimmed, with its contact consent."""
    by_id = {answer.id: answer for answer in given}
    assert theme.quote.answer_id in theme.answer_ids
    source = by_id[theme.quote.answer_id]
    assert theme.quote.text == trim_quote(source.text)
    assert theme.quote.may_contact == source.may_contact


@pytest.mark.parametrize("name", ["english", "dutch", "improvements"])
def test_the_corpus_yields_the_themes_written_down(name: str) -> None:
    given = corpus(name)
    expected: list[dict[str, Any]] = CORPUS[name]["themes"]

    themes = find_themes(given, ignore=[CORPUS[name]["question"]])

    assert [set(theme.answer_ids) for theme in themes] == [set(row["ids"]) for row in expected]
    assert [theme.count for theme in themes] == [len(row["ids"]) for row in expected]
    for theme, row in zip(themes, expected, strict=True):
        assert theme.label in [row["label"], *row.get("also", [])]
        check_quote(theme, given)


def test_dutch_and_english_answers_together_keep_each_language_s_themes() -> None:
    given = corpus("english") + corpus("dutch")

    themes = find_themes(given)

    expected = [row for name in ("english", "dutch") for row in CORPUS[name]["themes"]]
    assert sorted(theme.answer_ids for theme in themes) == sorted(
        tuple(row["ids"]) for row in expected
    )
    # Equal sizes are ordered by whose first answer came first: English, then Dutch.
    assert [theme.label for theme in themes] == ["delivery", "levering", "price", "prijs"]


def test_the_same_word_in_both_languages_makes_one_theme() -> None:
    given = [
        Answer(1, "The app crashes every morning.", "en"),
        Answer(2, "De app loopt steeds vast.", "nl"),
        Answer(3, "Cash flow.", "en"),
    ]

    (theme,) = find_themes(given)

    assert (theme.label, theme.answer_ids) == ("app", (1, 2))


def test_no_answers_make_no_themes() -> None:
    assert find_themes([]) == ()


def test_answers_that_share_no_word_make_no_themes() -> None:
    given = answers("Finding good staff.", "Cash flow in winter.", "New regulations.", "", "🙂")

    assert find_themes(given) == ()


def test_one_answer_repeating_a_word_is_no_theme() -> None:
    assert find_themes(answers("Delivery, delivery, delivery!", "Prices.")) == ()


def test_a_repeated_answer_id_counts_once() -> None:
    twice = Answer(7, "Slow delivery.", "en")

    assert find_themes([twice, twice]) == ()


def test_an_answer_about_two_things_falls_in_one_theme_only() -> None:
    given = answers(
        "Delivery is slow.",
        "Delivery takes weeks.",
        "Delivery and prices both worry me.",
        "Prices keep rising.",
        "Prices are high.",
    )

    themes = find_themes(given)

    ids = [answer_id for theme in themes for answer_id in theme.answer_ids]
    assert sorted(ids) == [1, 2, 3, 4, 5]
    assert [(theme.label, theme.count) for theme in themes] == [("delivery", 3), ("prices", 2)]


def test_punctuation_emoji_and_capitals_do_not_split_a_theme() -> None:
    given = answers("DELIVERY!!!", "delivery 🙄🙄", "Delivery…?", "“Delivery”, again.")

    (theme,) = find_themes(given)

    assert (theme.label, theme.count) == ("delivery", 4)


def test_dutch_compounds_and_participles_join_their_word() -> None:
    given = answers(
        "Onze klantenservice is slecht bereikbaar.",
        "De service is traag.",
        "Niet op tijd geleverd.",
        "Leveren duurt lang.",
        language="nl",
    )

    themes = find_themes(given)

    assert [theme.answer_ids for theme in themes] == [(1, 2), (3, 4)]


def test_html_looking_text_is_quoted_unchanged() -> None:
    given = answers("<b>Delivery</b> is late & slow", "Delivery <i>late</i> again")

    (theme,) = find_themes(given)

    assert theme.quote.text in {"<b>Delivery</b> is late & slow", "Delivery <i>late</i> again"}


def test_a_long_answer_is_quoted_trimmed_at_a_word_boundary() -> None:
    long = "The delivery " + "always takes much longer than promised and " * 10 + "end."
    given = answers(long, "Delivery is late.")
    given[1] = Answer(2, "Delivery is late. " + long, "en")

    (theme,) = find_themes(given)

    quote = theme.quote.text
    assert len(quote) <= QUOTE_LENGTH
    assert quote.endswith(ELLIPSIS)
    assert long.startswith(quote.removesuffix(ELLIPSIS))
    assert long[len(quote) - 1] == " "  # the cut falls between words


def test_trim_quote_keeps_a_short_text_whole_and_collapses_whitespace() -> None:
    assert trim_quote("  Slow\n\ndelivery.  ") == "Slow delivery."
    assert trim_quote("x" * QUOTE_LENGTH) == "x" * QUOTE_LENGTH


def test_trim_quote_cuts_one_endless_word_where_it_overflows() -> None:
    quote = trim_quote("https://example.com/" + "a" * 300)

    assert len(quote) == QUOTE_LENGTH
    assert quote.endswith(ELLIPSIS)


def test_trim_quote_drops_the_punctuation_before_the_ellipsis() -> None:
    assert trim_quote("Delivery is late, and the price is high", limit=20) == "Delivery is late…"


def test_the_quote_prefers_the_answer_most_like_the_others() -> None:
    given = answers("Delivery.", "Delivery takes weeks.", "Delivery: weeks of waiting.")

    (theme,) = find_themes(given)

    assert theme.quote.answer_id == 2


def test_the_quote_says_whether_the_customer_may_be_contacted() -> None:
    given = [Answer(1, "Slow delivery.", "en", may_contact=True), Answer(2, "Delivery.", "en")]

    (theme,) = find_themes(given)

    assert (theme.quote.answer_id, theme.quote.may_contact) == (1, True)


def test_words_of_the_question_never_make_a_theme() -> None:
    given = answers("Hiring is my biggest challenge.", "Biggest challenge: the weather.")

    assert find_themes(given)
    assert find_themes(given, ignore=["What is your biggest challenge right now?"]) == ()


def test_an_unknown_language_is_read_as_english() -> None:
    given = [Answer(1, "Deliveries are slow.", "de"), Answer(2, "Slow delivery.", "fr")]

    (theme,) = find_themes(given)

    assert theme.count == 2


words = st.sampled_from(
    [
        "delivery",
        "deliveries",
        "price",
        "prijs",
        "prijzen",
        "levering",
        "app",
        "slow",
        "the",
        "de",
        "!!",
        "🙂",
        "<b>",
        "LATE",
        "geleverd",
        "customer",
        "service",
        "klantenservice",
    ]
)
texts = st.lists(words, max_size=8).map(" ".join)
corpora = st.lists(
    st.builds(Answer, st.integers(0, 30), texts, st.sampled_from(["nl", "en"]), st.booleans()),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(corpora)
def test_themes_are_disjoint_sized_and_ordered_and_the_same_every_time(
    given: list[Answer],
) -> None:
    themes = find_themes(given)

    ids = [answer_id for theme in themes for answer_id in theme.answer_ids]
    assert len(ids) == len(set(ids))
    assert all(theme.count == len(theme.answer_ids) >= 2 for theme in themes)
    assert [theme.count for theme in themes] == sorted(
        (theme.count for theme in themes), reverse=True
    )
    first = {answer.id: answer for answer in reversed(given)}
    for theme in themes:
        assert theme.label
        check_quote(theme, list(first.values()))
    assert find_themes(given) == themes
