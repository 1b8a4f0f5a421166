"""What customers are talking about: a week's free-text answers to one question grouped by
meaning, each group with a distinctive label per language, its size, its most central
answer as the quote and its centroid, as pure functions of plain data.

The steps, as BERTopic has them: sentence vectors (computed once per answer, elsewhere),
each language's own mean taken out (so Dutch and English answers about one thing meet
instead of each language forming a cloud of its own; drawn towards a fixed baseline in a
quiet week, `bot.digest.baseline`), average-linkage clustering cut at
a cosine distance, then class-based TF-IDF labels (`bot.digest.labels`). Without vectors
(the model could not load) the word-based themes of `bot.digest.word_themes` stand in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.common import excerpts
from bot.digest import baseline, embedding, labels, word_themes
from bot.digest.clustering import Vectors, cluster, unit
from bot.digest.word_themes import Quote

# A theme needs at least this many answers: one answer is an opinion, two are a pattern.
MIN_ANSWERS = 2
# Where the clustering tree is cut (cosine distance between the language-centred vectors)
# depends on how many answers the week has. In a quiet week most answers are alone in
# what they say and a pair must be close to be a theme; in a busy week a theme's average
# over many answers is steady and a looser cut joins what belongs together. Tuned on the
# even-id answers of bench/data/themes_corpus.jsonl, scored on the odd ones (`python -m
# bench.themes`): weeks of 4 to 10 answers (themes drawn evenly, or skewed as 1/rank) do
# best anywhere between 0.74 and 0.80 (the loosest is taken, to leave as few true members
# out as possible), the whole half (~95 answers) at 0.93; in between, linear in the
# logarithm of the week's size, which the tuning at 20 and 40 answers follows.
QUIET = (6, 0.80)
BUSY = (95, 0.93)
# A language's mean is taken from its answers as if this many more sat at its baseline
# (`bot.digest.baseline`), so that a quiet week's few answers are not judged by their own
# mean alone.
CENTRE_SHRINK = 10.0


@dataclass(frozen=True)
class Answer:
    """A free-text answer: its id, text, language ('nl' or 'en'), whether the customer
    agreed to be contacted, and its sentence vector (None: not computed)."""

    id: int
    text: str
    language: str
    may_contact: bool = False
    vector: npt.NDArray[np.floating[Any]] | None = None


@dataclass(frozen=True)
class Theme:
    """A theme: its label per language, how many answers, their ids in input order, the
    quote, and the unit mean of its answers' vectors (None for word-based themes)."""

    labels: Mapping[str, str]
    count: int
    answer_ids: tuple[int, ...]
    quote: Quote
    centroid: Vectors | None = None

    def label(self, language: str) -> str:
        """The label in `language`, or in the other language when it has no answers in it."""
        return self.labels.get(language) or next(iter(self.labels.values()))


def find_themes(
    answers: Iterable[Answer],
    *,
    ignore: Sequence[str] = (),
    threshold: float | None = None,
    usual: Mapping[str, Vectors] | None = None,
) -> tuple[Theme, ...]:
    """The themes in `answers`, largest first (ties: the theme whose first answer came
    first); each answer falls in at most one theme. By meaning when every answer has a
    vector, else by shared words. Words of `ignore` (the question asked) never label. The
    tree is cut at `threshold`, or where `cut_for` says for this many answers. An
    answer id given twice counts once. `usual`: the baseline per language (the shipped
    one by default; {} for none, as the benchmark compares)."""
    unique = list({a.id: a for a in reversed(list(answers))}.values())[::-1]
    if not unique:
        return ()
    if any(a.vector is None for a in unique):
        return _by_words(unique, ignore)
    vectors = _matrix(unique)
    centred = centre_by_language(
        vectors,
        [a.language for a in unique],
        baseline.means(embedding.MODEL) if usual is None else usual,
    )
    cut = cut_for(len(unique)) if threshold is None else threshold
    groups = [g for g in cluster(centred, cut) if len(g) >= MIN_ANSWERS]
    texts = [[labels.Text(unique[k].text, unique[k].language) for k in g] for g in groups]
    found = []
    for group, label in zip(groups, labels.labels(texts, ignore), strict=True):
        members = [unique[k] for k in group]
        centroid = unit(vectors[group].mean(axis=0, keepdims=True))[0]
        central = members[int(np.argmax(centred[group] @ centred[group].mean(axis=0)))]
        found.append(
            Theme(
                label,
                len(members),
                tuple(a.id for a in members),
                Quote(central.id, excerpts.trim_quote(central.text), central.may_contact),
                centroid,
            )
        )
    return tuple(found)


def cut_for(answers: int) -> float:
    """The cosine distance the tree is cut at for a week of `answers` answers."""
    (few, low), (many, high) = QUIET, BUSY
    if answers <= few:
        return low
    if answers >= many:
        return high
    share = math.log(answers / few) / math.log(many / few)
    return low + share * (high - low)


def centre_by_language(
    vectors: Vectors, languages: Sequence[str], usual: Mapping[str, Vectors] | None = None
) -> Vectors:
    """The vectors with their language's mean taken out, back at unit length. The mean is
    the week's, drawn towards `usual` (the language's baseline, `bot.digest.baseline`; the
    origin where it has none) as if CENTRE_SHRINK more answers sat there."""
    centred = np.array(vectors, dtype=np.float32)
    codes = np.array(languages)
    for language in set(languages):
        rows = codes == language
        total = vectors[rows].sum(axis=0)
        if usual and language in usual:
            total = total + CENTRE_SHRINK * usual[language]
        centred[rows] -= total / (rows.sum() + CENTRE_SHRINK)
    return _to_unit(centred)


def _matrix(answers: Sequence[Answer]) -> Vectors:
    """The answers' vectors as one float32 matrix at unit length, filled row by row: a
    week of 3,000 answers is then one 6 MB array, not a copy per step."""
    first = np.asarray(answers[0].vector)
    matrix = np.empty((len(answers), first.shape[-1]), dtype=np.float32)
    for row, answer in zip(matrix, answers, strict=True):
        row[...] = answer.vector
    return _to_unit(matrix)


def _to_unit(matrix: Vectors) -> Vectors:
    """`matrix` with its rows scaled to unit length in place (a zero row stays zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def _by_words(answers: Sequence[Answer], ignore: Sequence[str]) -> tuple[Theme, ...]:
    found = word_themes.find_themes(
        (word_themes.Answer(a.id, a.text, a.language, a.may_contact) for a in answers),
        ignore=ignore,
    )
    return tuple(
        Theme(
            {"nl": t.label, "en": t.label},
            t.count,
            t.answer_ids,
            t.quote,
        )
        for t in found
    )
