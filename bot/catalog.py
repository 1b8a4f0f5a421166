"""The language catalogs: every user-facing text, in Dutch and English, from TOML files,
with numbers, plurals and dates written the language's way (CLDR's rules, through Babel)."""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

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


def plural_forms(spec: str) -> dict[str, str] | None:
    """The forms of a plural field's spec ("one=# klant|other=# klanten") by category, or
    None when the spec is not a plural one."""
    if "=" not in spec:
        return None
    forms: dict[str, str] = {}
    for part in spec.split("|"):
        category, _, form = part.partition("=")
        forms[category.strip()] = form
    return forms


def plural_categories(language: str) -> set[str]:
    """The plural categories CLDR gives the language ("one" and "other" for nl and en)."""
    return set(Locale.parse(language).plural_form.tags) | {"other"}


class _Filler(string.Formatter):
    """Fills a template for one language: parameters HTML-escaped (`Html` ones as they are),
    and a plural field, `{count:one=# klant|other=# klanten}`, as the form its number calls
    for in the language, with `#` the number written the language's way."""

    def __init__(self, locale: Locale) -> None:
        super().__init__()
        self._locale = locale

    def format_field(self, value: Any, format_spec: str) -> str:
        forms = plural_forms(format_spec)
        if forms is None:
            return value if isinstance(value, Html) else html.escape(str(value), quote=False)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"a plural field needs a number, not {value!r}")
        form = forms.get(self._locale.plural_form(value), forms["other"])
        return form.replace("#", format_decimal(value, locale=self._locale))


class Catalog:
    """Looks up texts by language and key, escaping every parameter for Telegram's HTML."""

    def __init__(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        self._texts = texts
        self._locales = {language: Locale.parse(language) for language in texts}
        self._fillers = {language: _Filler(locale) for language, locale in self._locales.items()}
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
        for problem in [*mismatches(texts), *plural_problems(texts)]:
            raise CatalogError(problem)
        return cls(texts)

    def keys(self, language: str) -> set[str]:
        """Every key the catalog of this language has."""
        return set(self._texts[language])

    def date(self, language: str, day: date, *, weekday: bool = False) -> str:
        """A day and month ("3 December", "3 december"), after the weekday with `weekday`
        ("Thu 3 December", "do 3 december"), as the catalog's CLDR patterns write them."""
        key = "dates.weekday_day_month" if weekday else "dates.day_month"
        return format_date(day, self.template(language, key), locale=self._locale(language))

    def months(self, language: str) -> Sequence[str]:
        """The twelve months' names, January first."""
        names = self._locale(language).months["format"]["wide"]
        return tuple(names[month] for month in range(1, 13))

    def number(self, language: str, value: float, decimals: int = 0) -> str:
        """`value` with `decimals` decimals, written the language's way ("3,2", "3.2")."""
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self._locale(language))

    def _locale(self, language: str) -> Locale:
        return self._locales.get(language, self._locales[FALLBACK])

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

        Parameters that are `Html` (other catalog texts) are filled in as they are; a plural
        field takes the form its number calls for.
        """
        if language not in self._texts:
            language = FALLBACK
        template = self._overrides.get((language, key)) or self._texts[language][key]
        return Html(self._fillers[language].format(template, **params))


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


def plural_problems(texts: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Plural fields that do not give exactly the forms their language has."""
    problems: list[str] = []
    for language, templates in texts.items():
        wanted = plural_categories(language)
        for key, template in sorted(templates.items()):
            for _, field, spec, _ in string.Formatter().parse(template):
                forms = plural_forms(spec or "")
                if field and forms is not None and set(forms) != wanted:
                    problems.append(
                        f"{key} in {language}: the plural of {{{field}}} needs the forms"
                        f" {', '.join(sorted(wanted))}, not {', '.join(sorted(forms))}"
                    )
    return problems
