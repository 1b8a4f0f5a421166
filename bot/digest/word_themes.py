"""Themes by shared words, the fallback when the sentence model cannot load: recurring themes
in short Dutch and English answers, each with its size, its answers and one short quote."""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

# snowballstemmer ships no type information (no py.typed); _stem pins its result to str.
import snowballstemmer  # type: ignore[import-untyped]
import stopwordsiso

from bot.common import excerpts

# A theme needs at least this many answers: one answer is an opinion, two are a pattern.
MIN_ANSWERS = 2
# Quotes are cut to this many characters, the "…" included.
QUOTE_LENGTH = excerpts.QUOTE_CHARS
ELLIPSIS = excerpts.ELLIPSIS
_WHITESPACE = re.compile(r"\s+")

LANGUAGES = {"nl": "dutch", "en": "english"}
# Anything else is read as English: it is the bot's fallback language too.
FALLBACK_LANGUAGE = "en"

# Below this length a stem only matches itself: short stems ("app", "tijd") occur inside too
# many unrelated words.
MIN_AFFIX_MATCH = 5

# Letters only: digits ("20 %", "2 weeks") and emoji carry no theme; an apostrophe inside a
# word ("can't", "auto's") keeps it whole so the stop words and stemmers can see it.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class Answer:
    """A free-text answer: its id, its text, its language ('nl' or 'en') and whether the
    customer agreed to be contacted."""

    id: int
    text: str
    language: str
    may_contact: bool = False


@dataclass(frozen=True)
class Quote:
    """A theme's representative answer, cut to at most QUOTE_LENGTH characters; the caller
    attributes it only if the customer agreed to be contacted."""

    answer_id: int
    text: str
    may_contact: bool


@dataclass(frozen=True)
class Theme:
    """A recurring theme: a word or short phrase from the answers, how many distinct answers
    fall in it, their ids in input order, and one quote from them."""

    label: str
    count: int
    answer_ids: tuple[int, ...]
    quote: Quote


@dataclass(frozen=True)
class _Token:
    surface: str  # the word as written, casefolded
    stem: str


@dataclass(frozen=True)
class _Parsed:
    answer: Answer
    language: str
    tokens: tuple[_Token | None, ...]  # None where a stop word or an ignored word stood


def find_themes(answers: Iterable[Answer], *, ignore: Sequence[str] = ()) -> tuple[Theme, ...]:
    """The recurring themes in `answers`, largest first (ties: the theme whose first answer
    came first); each answer falls in at most one theme, and answers that share no recurring
    word with another fall in none. Words of the texts in `ignore` (the question asked, say)
    never make a theme. An answer id given twice counts once."""
    parsed = _parse_all(answers, ignore)
    postings = _postings(parsed)
    covers = _covers(postings)
    return tuple(
        _theme(parsed, key, postings.languages_of_stem[key], members)
        for key, members in _pick(covers, len(parsed))
    )


def _parse_all(answers: Iterable[Answer], ignore: Sequence[str]) -> list[_Parsed]:
    ignored = {
        token.stem
        for text in ignore
        for language in LANGUAGES
        for token in _tokens(text, language, frozenset())
        if token is not None
    }
    seen: set[int] = set()
    parsed = []
    for answer in answers:
        if answer.id in seen:
            continue
        seen.add(answer.id)
        language = answer.language if answer.language in LANGUAGES else FALLBACK_LANGUAGE
        parsed.append(_Parsed(answer, language, _tokens(answer.text, language, ignored)))
    return parsed


def _tokens(
    text: str, language: str, ignored: frozenset[str] | set[str]
) -> tuple[_Token | None, ...]:
    stop = _stop_words(language)
    tokens: list[_Token | None] = []
    for match in _WORD.finditer(text.replace("’", "'")):
        word = match.group().casefold()
        if len(word) < 2 or word in stop:
            tokens.append(None)
            continue
        stem = _stem(language, word)
        tokens.append(None if stem in ignored else _Token(word, stem))
    return tuple(tokens)


@cache
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(word.casefold() for word in stopwordsiso.stopwords(language))


@cache
def _stemmer(language: str) -> Any:
    return snowballstemmer.stemmer(LANGUAGES[language])


# A week's answers reuse a few thousand words; the pure-Python stemmer costs ~50 µs a word.
@lru_cache(maxsize=65536)
def _stem(language: str, word: str) -> str:
    if language == "nl" and word.endswith("'s"):
        # Dutch writes some plurals with an apostrophe (auto's); the stemmer expects none.
        word = word[:-2]
    return str(_stemmer(language).stemWord(word))


@dataclass
class _Postings:
    by_stem: dict[str, set[int]]
    # Per language, every stem and every word as written, with the answers they occur in.
    by_form: dict[str, dict[str, set[int]]]
    languages_of_stem: dict[str, set[str]]


def _postings(parsed: Sequence[_Parsed]) -> _Postings:
    by_stem: dict[str, set[int]] = {}
    by_form: dict[str, dict[str, set[int]]] = {language: {} for language in LANGUAGES}
    languages_of_stem: dict[str, set[str]] = {}
    for index, item in enumerate(parsed):
        forms = by_form[item.language]
        for token in item.tokens:
            if token is None:
                continue
            by_stem.setdefault(token.stem, set()).add(index)
            languages_of_stem.setdefault(token.stem, set()).add(item.language)
            forms.setdefault(token.stem, set()).add(index)
            forms.setdefault(token.surface, set()).add(index)
    return _Postings(by_stem, by_form, languages_of_stem)


def _covers(postings: _Postings) -> dict[str, frozenset[int]]:
    """Per stem, the answers it stands for: those with the same stem in any language, and,
    within the stem's own language, those with a word or stem that begins with it (the
    stemmers leave some forms apart: delivery/delivered, levering/geleverd) or, in Dutch, ends
    with it (compounds: klantenservice)."""
    sorted_forms = {language: sorted(forms) for language, forms in postings.by_form.items()}
    reversed_forms = {
        language: sorted(form[::-1] for form in forms)
        for language, forms in postings.by_form.items()
    }
    covers: dict[str, frozenset[int]] = {}
    for stem, indices in postings.by_stem.items():
        members = set(indices)
        if len(stem) >= MIN_AFFIX_MATCH:
            for language in postings.languages_of_stem[stem]:
                forms = postings.by_form[language]
                for form in _with_prefix(sorted_forms[language], stem):
                    members |= forms[form]
                if language == "nl":
                    for mrof in _with_prefix(reversed_forms[language], stem[::-1]):
                        members |= forms[mrof[::-1]]
        covers[stem] = frozenset(members)
    return covers


def _with_prefix(ordered: Sequence[str], prefix: str) -> Iterable[str]:
    index = bisect_left(ordered, prefix)
    while index < len(ordered) and ordered[index].startswith(prefix):
        yield ordered[index]
        index += 1


def _pick(covers: dict[str, frozenset[int]], size: int) -> list[tuple[str, list[int]]]:
    """Greedy cover: take the stem that stands for the most unassigned answers, assign them,
    repeat. Lazy: a stem's count only falls as answers are assigned, so a popped stem whose
    count still holds is the best one left. Ties go to the stem whose first unassigned answer
    came first, then to the stem in alphabetical order, so the result is stable."""
    assigned = [False] * size
    heap = [
        (-len(members), min(members), stem)
        for stem, members in covers.items()
        if len(members) >= MIN_ANSWERS
    ]
    heapq.heapify(heap)
    picked = []
    while heap:
        _count, _first, stem = heapq.heappop(heap)
        free = sorted(index for index in covers[stem] if not assigned[index])
        if len(free) < MIN_ANSWERS:
            continue
        entry = (-len(free), free[0], stem)
        if heap and entry > heap[0]:
            heapq.heappush(heap, entry)
            continue
        for index in free:
            assigned[index] = True
        picked.append((stem, free))
    return picked


def _theme(
    parsed: Sequence[_Parsed], key: str, key_languages: set[str], members: list[int]
) -> Theme:
    items = [parsed[index] for index in members]
    quote = _representative(items)
    return Theme(
        label=_label(items, key, key_languages),
        count=len(items),
        answer_ids=tuple(item.answer.id for item in items),
        quote=Quote(
            quote.answer.id, excerpts.trim_quote(quote.answer.text), quote.answer.may_contact
        ),
    )


def _matches(token: _Token, key: str, language: str, key_languages: set[str]) -> bool:
    """Whether `token` is one of the words `_covers` let `key` stand for."""
    if token.stem == key:
        return True
    if len(key) < MIN_AFFIX_MATCH or language not in key_languages:
        return False
    forms = (token.stem, token.surface)
    if any(form.startswith(key) for form in forms):
        return True
    return language == "nl" and any(form.endswith(key) for form in forms)


def _label(items: Sequence[_Parsed], key: str, key_languages: set[str]) -> str:
    """The theme's commonest word: of the stems that matched its key, the one in most answers;
    of that stem's words, the commonest, then the shortest (usually the base form), then the
    first seen. A two-word phrase around it ("customer service") wins when at least half the
    answers share it."""
    stem_answers: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    phrases: Counter[str] = Counter()
    order: dict[str, int] = {}
    for item in items:
        stems_here: set[str] = set()
        phrases_here: set[str] = set()
        tokens = item.tokens
        for position, token in enumerate(tokens):
            if token is None or not _matches(token, key, item.language, key_languages):
                continue
            stems_here.add(token.stem)
            surfaces.setdefault(token.stem, Counter())[token.surface] += 1
            order.setdefault(token.surface, len(order))
            for left, right in ((position - 1, position), (position, position + 1)):
                if left >= 0 and right < len(tokens):
                    first, second = tokens[left], tokens[right]
                    if first is not None and second is not None:
                        phrases_here.add(f"{first.surface} {second.surface}")
        stem_answers.update(stems_here)
        phrases.update(phrases_here)
    stem = min(stem_answers, key=lambda s: (-stem_answers[s], min(order[w] for w in surfaces[s])))
    words = surfaces[stem]
    word = min(words, key=lambda w: (-words[w], len(w), order[w]))
    if phrases:
        phrase, count = min(phrases.items(), key=lambda pair: (-pair[1], pair[0]))
        if count >= MIN_ANSWERS and 2 * count >= len(items):
            return phrase
    return word


def _representative(items: Sequence[_Parsed]) -> _Parsed:
    """The answer that shares the most of its words with the theme's other answers; ties go
    to one that fits in a quote whole, then to the first."""
    in_answers: Counter[str] = Counter()
    for item in items:
        in_answers.update({token.stem for token in item.tokens if token is not None})

    def score(pair: tuple[int, _Parsed]) -> tuple[int, bool, int]:
        position, item = pair
        shared = {t.stem for t in item.tokens if t is not None and in_answers[t.stem] > 1}
        too_long = len(_WHITESPACE.sub(" ", item.answer.text).strip()) > QUOTE_LENGTH
        return (-len(shared), too_long, position)

    return min(enumerate(items), key=score)[1]
