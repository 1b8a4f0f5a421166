"""The language catalogs: every user-facing text, in Dutch and English, from TOML files."""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).parent / "catalogs"
LANGUAGES = ("nl", "en")
FALLBACK = "en"


class Html(str):
    """Text that is already safe Telegram HTML: a catalog text, passed on as a parameter."""

    __slots__ = ()


class CatalogError(Exception):
    """A catalog file is missing, malformed, or disagrees with the other language."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            # TOML's multi-line strings start after the newline we write for readability.
            flat[name] = value.strip("\n")
        else:
            raise CatalogError(f"{name} must be text")
    return flat


def placeholders(template: str) -> set[str]:
    """The `{name}` fields a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Catalog:
    """Looks up texts by language and key, escaping every parameter for Telegram's HTML."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = texts
        # Templates that replace the files' for a (language, key): wording admins changed.
        self._overrides: dict[tuple[str, str], str] = {}

    @classmethod
    def load(cls, directory: Path = CATALOG_DIR) -> Catalog:
        """Loads `nl.toml` and `en.toml` (plus `<part>.nl.toml` and `<part>.en.toml`, one
        part per capability); both languages must have the same keys and placeholders."""
        texts: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            merged: dict[str, str] = {}
            paths = [directory / f"{language}.toml", *sorted(directory.glob(f"*.{language}.toml"))]
            for path in paths:
                try:
                    part = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
                except (OSError, tomllib.TOMLDecodeError) as exc:
                    raise CatalogError(f"{path.name}: {exc}") from exc
                for key in part.keys() & merged.keys():
                    raise CatalogError(f"{path.name}: {key} is already defined in another file")
                merged.update(part)
            texts[language] = merged
        for problem in mismatches(texts):
            raise CatalogError(problem)
        return cls(texts)

    def keys(self, language: str) -> set[str]:
        """Every key the catalog of this language has."""
        return set(self._texts[language])

    def date(self, language: str, moment: datetime) -> str:
        """A day and month ("22 December", "22 december") in the language's words."""
        months = self.text(language, "dates.months").split(",")
        return self.text(
            language, "dates.day_month", day=moment.day, month=months[moment.month - 1].strip()
        )

    def template(self, language: str, key: str) -> str:
        """The template for `key` in `language` as the catalog file has it (no overrides)."""
        return self._texts.get(language, self._texts[FALLBACK])[key]

    def override(self, language: str, key: str, template: str | None) -> None:
        """Uses `template` for `key` in `language` from now on; None goes back to the file's."""
        if key not in self._texts[language]:
            raise KeyError(key)
        if template is None:
            self._overrides.pop((language, key), None)
        else:
            self._overrides[language, key] = template

    def text(self, language: str, key: str, **params: Any) -> Html:
        """The text for `key` in `language`, with `params` HTML-escaped and filled in.

        Parameters that are `Html` (other catalog texts) are filled in as they are.
        """
        if language not in self._texts:
            language = FALLBACK
        template = self._overrides.get((language, key)) or self._texts[language][key]
        escaped = {
            name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
            for name, value in params.items()
        }
        return Html(template.format(**escaped))


def mismatches(texts: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Keys or placeholders present in one language and not the other."""
    problems: list[str] = []
    nl, en = texts["nl"], texts["en"]
    for key in sorted(set(nl) ^ set(en)):
        problems.append(f"{key} is in {'nl' if key in nl else 'en'}.toml only")
    for key in sorted(set(nl) & set(en)):
        if placeholders(nl[key]) != placeholders(en[key]):
            problems.append(f"{key} has different placeholders in nl.toml and en.toml")
    return problems
