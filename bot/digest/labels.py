"""A theme's label: the short phrase from its own answers that sets it apart from the other
themes, in each language it has answers in, by class-based TF-IDF as BERTopic does.

A term (one word or two adjacent words, stemmed, stop words left out) weighs how many of
the theme's answers use it, times log(1 + A / f): A the mean number of answers per theme,
f how many answers of all themes use it. A word every theme uses ("customers", "klanten",
"more") therefore weighs little, and one that is also in every other theme is never a
label. The label is written as the answers wrote it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

# snowballstemmer ships no type information (no py.typed); _stem pins its result to str.
import snowballstemmer  # type: ignore[import-untyped]
import stopwordsiso

LANGUAGES = {"nl": "dutch", "en": "english"}
FALLBACK_LANGUAGE = "en"  # anything else is read as English, the bot's fallback too

# Letters only (digits and emoji carry no theme); an apostrophe inside a word keeps it whole.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
# Words about whom every answer is ("our customers"): in a customer pulse they label nothing.
DOMAIN_STOP_WORDS = frozenset(
    {"klant", "klanten", "customer", "customers", "client", "clients", "bedrijf", "company"}
)
# Words too short to say anything on their own ("ok", "eh").
MIN_WORD = 3
# A term used by more than this share of the themes (when there are at least
# GENERIC_MIN_THEMES) is generic: it never labels, as one used by all of them never does.
GENERIC_SHARE = 0.5
GENERIC_MIN_THEMES = 4
# A second term joins the label when it weighs at least this share of the first.
SECOND_TERM_SHARE = 0.6


@dataclass(frozen=True)
class Text:
    """An answer's words and language, as labelling needs them."""

    text: str
    language: str


@dataclass(frozen=True)
class _Term:
    key: tuple[str, ...]  # stems
    surface: str  # as written


def labels(themes: Sequence[Sequence[Text]], ignore: Sequence[str] = ()) -> list[dict[str, str]]:
    """For each theme (its answers), its label per language it has answers in ('nl', 'en');
    a theme with no telling word gets its most common word. Words of `ignore` (the question
    asked) never label."""
    ignored = {
        (language, stem)
        for text in ignore
        for language in LANGUAGES
        for stem in _stems(language, text)
    }
    per_theme = [[_terms(t, ignored) for t in theme] for theme in themes]
    used_by: Counter[tuple[str, tuple[str, ...]]] = Counter()
    themes_using: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for theme_terms in per_theme:
        seen_here: set[tuple[str, tuple[str, ...]]] = set()
        for language, terms in theme_terms:
            keys = {(language, term.key) for term in terms}
            used_by.update(keys)
            seen_here |= keys
        themes_using.update(seen_here)
    mean_size = sum(len(t) for t in themes) / max(1, len(themes))
    out: list[dict[str, str]] = []
    for theme_terms in per_theme:
        found: dict[str, str] = {}
        for language in LANGUAGES:
            label = _best(theme_terms, language, used_by, themes_using, len(themes), mean_size)
            if label:
                found[language] = label
        for language in LANGUAGES:
            if language not in found and found:
                found[language] = next(iter(found.values()))
        out.append(found)
    return out


def _best(
    theme_terms: list[tuple[str, list[_Term]]],
    language: str,
    used_by: Counter[tuple[str, tuple[str, ...]]],
    themes_using: Counter[tuple[str, tuple[str, ...]]],
    theme_count: int,
    mean_size: float,
) -> str | None:
    counts: Counter[tuple[str, ...]] = Counter()
    surfaces: dict[tuple[str, ...], Counter[str]] = {}
    for answer_language, terms in theme_terms:
        if answer_language != language:
            continue
        for key in {term.key for term in terms}:
            counts[key] += 1
        for term in terms:
            surfaces.setdefault(term.key, Counter())[term.surface] += 1
    if not counts:
        return None

    def weight(key: tuple[str, ...]) -> float:
        # Generic: used by every theme, or by most of many ("klanten", "customers").
        using = themes_using[(language, key)]
        if (theme_count > 1 and using == theme_count) or (
            theme_count >= GENERIC_MIN_THEMES and using > GENERIC_SHARE * theme_count
        ):
            return 0.0
        # Two words that occur together say more than either: a small premium.
        length = 1.15 if len(key) > 1 else 1.0
        return counts[key] * math.log(1 + mean_size / used_by[(language, key)]) * length

    ranked = sorted(counts, key=lambda k: (-weight(k), -counts[k], k))
    best = ranked[0]
    if weight(best) == 0.0:
        best = max(counts, key=lambda k: (counts[k], k))
    chosen = [best]
    for key in ranked[1:]:
        if weight(key) < SECOND_TERM_SHARE * weight(best) or counts[key] < 2:
            break
        if not set(key) & set(best):
            chosen.append(key)
            break
    return ", ".join(surfaces[k].most_common(1)[0][0] for k in chosen)


def _language(language: str) -> str:
    return language if language in LANGUAGES else FALLBACK_LANGUAGE


def _terms(text: Text, ignored: set[tuple[str, str]]) -> tuple[str, list[_Term]]:
    """The answer's unigrams and adjacent bigrams (no stop word between or in them)."""
    language = _language(text.language)
    stops = _stop_words(language)
    terms: list[_Term] = []
    previous: tuple[str, str] | None = None
    for match in _WORD.finditer(text.text):
        word = match.group(0).casefold()
        if word in stops or len(word) < MIN_WORD:
            previous = None
            continue
        stem = _stem(language, word)
        if (language, stem) in ignored:
            previous = None
            continue
        terms.append(_Term((stem,), word))
        if previous is not None:
            terms.append(_Term((previous[0], stem), f"{previous[1]} {word}"))
        previous = (stem, word)
    return language, terms


def _stems(language: str, text: str) -> list[str]:
    stops = _stop_words(language)
    return [
        _stem(language, w.casefold()) for w in _WORD.findall(text) if w.casefold() not in stops
    ]


@cache
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in stopwordsiso.stopwords(language)) | DOMAIN_STOP_WORDS


@cache
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(LANGUAGES[language])


@cache
def _stem(language: str, word: str) -> str:
    return str(_stemmer(language).stemWord(word))
