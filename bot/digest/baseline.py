"""What an ordinary answer looks like in each language: the mean sentence vector of a fixed
set of everyday customer answers, taken out of every answer before themes are compared.

Every answer of one language shares part of its vector with all the others (the
language, the register of a short customer reply). Themes take that shared part out, so
that Dutch and English answers about one thing meet. A busy week's own mean estimates it
well; a quiet week of six answers does not, and then unrelated answers look alike and
pile into one theme. The week's mean is therefore drawn towards this baseline, more so
the fewer answers the week has (`bot.digest.themes.centre_by_language`).

The sentences below are ours, written for this purpose and not taken from the labelled
corpus the themes are scored on. Their mean vectors ship precomputed in
`data/baseline.npz`, so the digest needs no model to read them;
`python -m bot.digest.baseline` writes that file again, and a test checks that it matches
what the model gives.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np

from bot.digest.clustering import Vectors

FILE = Path(__file__).parent / "data" / "baseline.npz"

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Things are going fine, no complaints",
        "Finding good people to hire",
        "Keeping costs under control this year",
        "Our customers want everything faster",
        "Too much paperwork and admin",
        "Getting paid on time",
        "The software we use keeps crashing",
        "Growing without losing quality",
        "Competition from cheaper online shops",
        "Energy and fuel prices",
        "Orders arriving later than promised",
        "Better communication when something changes",
        "Lower prices for regular customers",
        "A website that is easier to use",
        "Faster answers from your support team",
        "Having one person who knows our account",
        "More products in stock",
        "Clearer invoices and fewer mistakes",
        "Nothing really, keep it up",
        "More flexible delivery times",
        "Training for our staff on your products",
        "Cash flow in the quiet months",
        "New rules and regulations",
        "Planning ahead is hard right now",
    ),
    "nl": (
        "Het gaat prima, geen klachten",
        "Goede mensen vinden om aan te nemen",
        "De kosten dit jaar in de hand houden",
        "Onze klanten willen alles sneller",
        "Te veel papierwerk en administratie",
        "Op tijd betaald krijgen",
        "De software die we gebruiken loopt steeds vast",
        "Groeien zonder kwaliteit te verliezen",
        "Concurrentie van goedkopere webwinkels",
        "Energie- en brandstofprijzen",
        "Bestellingen komen later dan beloofd",
        "Betere communicatie als er iets verandert",
        "Lagere prijzen voor vaste klanten",
        "Een website die makkelijker werkt",
        "Sneller antwoord van jullie klantenservice",
        "Eén persoon die ons account kent",
        "Meer producten op voorraad",
        "Duidelijkere facturen en minder fouten",
        "Eigenlijk niets, ga zo door",
        "Flexibelere levertijden",
        "Training voor ons personeel over jullie producten",
        "Liquiditeit in de rustige maanden",
        "Nieuwe regels en wetgeving",
        "Vooruit plannen is nu lastig",
    ),
}


@cache
def means(model: str) -> dict[str, Vectors]:
    """The baseline vector per language for `model` ({} for another model, or if the file
    is missing: then themes fall back to the week's own mean alone)."""
    if not FILE.exists():
        return {}
    with np.load(FILE) as stored:
        if str(stored["model"]) != model:
            return {}
        return {language: np.asarray(stored[language], dtype=np.float32) for language in SENTENCES}


def compute() -> dict[str, Vectors]:
    """The baseline vectors as the packaged model gives them now (loads the model)."""
    from bot.digest.embedding import shared

    embedder = shared()
    return {
        language: embedder.embed(list(sentences)).mean(axis=0)
        for language, sentences in SENTENCES.items()
    }


def main() -> int:
    from bot.digest.embedding import MODEL

    FILE.parent.mkdir(exist_ok=True)
    computed = compute()
    np.savez(FILE, model=np.array(MODEL), nl=computed["nl"], en=computed["en"])
    means.cache_clear()
    print(f"wrote {FILE} for {MODEL}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
