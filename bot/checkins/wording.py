"""The check-in wording admins change: stored in the database, put into the catalog at
start-up and at every change, so the check-in conversation asks it from then on."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.catalog import Catalog
from bot.checkins.questions import LANGUAGE_NAMES, QUESTIONS, TEXTS, default_wording, reworded
from storage import wording
from storage.db import REPEATED, Database


@dataclass(frozen=True)
class Wording:
    """One question in one language: its words now, and whether an admin changed them."""

    question: str
    language: str
    text: str
    changed: bool


def catalog_default(catalog: Catalog, question: str, language: str) -> str:
    """The question as the catalog words it."""
    return default_wording(catalog.template(language, TEXTS[question][0]))


def apply(catalog: Catalog, question: str, language: str, text: str | None) -> None:
    """Makes the catalog ask `question` in `text` (None: as its files word it)."""
    for key in TEXTS[question]:
        template = None if text is None else reworded(catalog.template(language, key), text)
        catalog.override(language, key, template)


async def load(db: Database, catalog: Catalog) -> None:
    """At start-up: the stored wording into the catalog."""
    stored = await db.read(wording.load)
    for (question, language), text in stored.items():
        if question in TEXTS and language in LANGUAGE_NAMES:
            apply(catalog, question, language, text)


async def current(db: Database, catalog: Catalog) -> list[Wording]:
    """Every question in both languages, as customers are asked it now."""
    stored = await db.read(wording.load)
    return [
        Wording(
            question,
            language,
            stored.get((question, language)) or catalog_default(catalog, question, language),
            (question, language) in stored,
        )
        for question in QUESTIONS
        for language in LANGUAGE_NAMES
    ]


async def change(
    db: Database,
    catalog: Catalog,
    question: str,
    language: str,
    text: str,
    *,
    actor_id: int,
    now: int,
) -> tuple[str, str] | None:
    """Rewords a question in one language; returns (old, new), or None when an earlier
    handling of the same update already did."""

    def reword(conn: sqlite3.Connection) -> tuple[str, bool]:
        """The old wording, and whether it changed."""
        stored = wording.load(conn)
        old = stored.get((question, language)) or catalog_default(catalog, question, language)
        if old == text:
            return old, False
        wording.change(
            conn, question, language, text, actor_id=actor_id, now=now, old=old, new=text
        )
        return old, True

    done = await db.write_once(reword)
    if done is REPEATED:
        return None
    old, changed = done
    if changed:
        apply(catalog, question, language, text)
    return old, text


async def reset(
    db: Database, catalog: Catalog, question: str | None, *, actor_id: int, now: int
) -> list[Wording] | None:
    """Back to the catalog's wording for one question or all; returns what was reset, or
    None when an earlier handling of the same update already did."""
    questions = QUESTIONS if question is None else (question,)

    def reset_stored(conn: sqlite3.Connection) -> list[Wording]:
        reset_ones: list[Wording] = []
        stored = wording.load(conn)
        for name in questions:
            for language in LANGUAGE_NAMES:
                old = stored.get((name, language))
                if old is None:
                    continue
                default = catalog_default(catalog, name, language)
                wording.change(
                    conn, name, language, None, actor_id=actor_id, now=now, old=old, new=default
                )
                reset_ones.append(Wording(name, language, default, False))
        return reset_ones

    reset_ones = await db.write_once(reset_stored)
    if reset_ones is REPEATED:
        return None
    for name in questions:
        for language in LANGUAGE_NAMES:
            apply(catalog, name, language, None)
    return reset_ones
