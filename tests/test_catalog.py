"""The language catalogs: complete in both languages, valid Telegram HTML, and escaping."""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.catalog import LANGUAGES, Catalog, CatalogError

ROOT = Path(__file__).resolve().parent.parent
# Telegram's HTML parse mode accepts these tags only.
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
}
# Keys written as string literals in the code, e.g. "enroll.welcome" (audit actions aside).
KEY_LITERAL = re.compile(
    r"(?<!action=)[\"']((?:enroll|stop|language|help|general|invite)\.[a-z_]+)[\"']"
)


class _TagChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"<{tag}> is not allowed")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes nothing open")


def test_both_catalogs_load_with_the_same_keys_and_placeholders() -> None:
    catalog = Catalog.load()
    assert catalog.keys("nl") == catalog.keys("en")


def test_a_key_missing_from_one_language_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[a]\nb = "x {name}"\nc = "y"\n')
    (tmp_path / "nl.toml").write_text('[a]\nb = "x {naam}"\n')
    with pytest.raises(CatalogError, match=r"a\.c is in en\.toml only"):
        Catalog.load(tmp_path)


def test_part_files_are_merged_and_a_key_defined_twice_is_refused(tmp_path: Path) -> None:
    for language in LANGUAGES:
        (tmp_path / f"{language}.toml").write_text('[a]\nb = "x"\n')
        (tmp_path / f"digest.{language}.toml").write_text('[digest]\ntitle = "t"\n')
    assert Catalog.load(tmp_path).text("en", "digest.title") == "t"
    (tmp_path / "extra.en.toml").write_text('[a]\nb = "again"\n')
    with pytest.raises(CatalogError, match=r"extra\.en\.toml: a\.b is already defined"):
        Catalog.load(tmp_path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_valid_telegram_html(language: str) -> None:
    catalog = Catalog.load()
    for key in sorted(catalog.keys(language)):
        checker = _TagChecker()
        checker.feed(catalog._texts[language][key])  # the raw template, before formatting
        checker.close()
        assert not checker.problems, (key, checker.problems)
        assert not checker.open, (key, checker.open)


def test_every_key_the_code_uses_exists() -> None:
    catalog = Catalog.load()
    used: set[str] = set()
    for package in ("bot", "conversations"):
        for path in (ROOT / package).rglob("*.py"):
            used.update(KEY_LITERAL.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no keys: the test would pass vacuously"
    assert used <= catalog.keys("en"), used - catalog.keys("en")


def test_parameters_are_html_escaped() -> None:
    catalog = Catalog.load()
    text = catalog.text("en", "enroll.already_enrolled", segment="<b>&co</b>")
    assert "&lt;b&gt;&amp;co&lt;/b&gt;" in text


@pytest.mark.parametrize(
    ("language", "count", "shown"),
    [
        ("nl", 0, "• thema <b>levering</b>: 0 klanten"),
        ("nl", 1, "• thema <b>levering</b>: 1 klant"),
        ("nl", 2, "• thema <b>levering</b>: 2 klanten"),
        ("nl", 1234, "• thema <b>levering</b>: 1.234 klanten"),
        ("en", 0, "• theme <b>levering</b>: 0 customers"),
        ("en", 1, "• theme <b>levering</b>: 1 customer"),
        ("en", 2, "• theme <b>levering</b>: 2 customers"),
        ("en", 1234, "• theme <b>levering</b>: 1,234 customers"),
    ],
)
def test_a_plural_takes_the_form_its_number_calls_for(
    language: str, count: int, shown: str
) -> None:
    catalog = Catalog.load()
    assert catalog.text(language, "tell.theme_line", label="levering", count=count) == shown


@pytest.mark.parametrize(
    ("language", "gone", "start"),
    [
        (
            "nl",
            1,
            "Er kan niemand gevraagd worden: de enige klant die meedeed, is gestopt of heeft",
        ),
        ("nl", 2, "Er kan niemand gevraagd worden: alle 2 klanten die meededen, zijn gestopt of"),
        ("en", 1, "Nobody can be asked: the one customer who took part has stopped"),
        ("en", 2, "Nobody can be asked: all 2 customers who took part have stopped"),
    ],
)
def test_a_plural_can_change_the_whole_phrase(language: str, gone: int, start: str) -> None:
    catalog = Catalog.load()
    assert catalog.text(language, "rounds.nobody_gone", segment="", gone=gone).startswith(start)


def test_several_plurals_in_one_text_each_follow_their_own_number() -> None:
    catalog = Catalog.load()
    counts = {"customers": 1, "pending": 0, "invitations": 2, "hypotheses": 1}
    dutch = catalog.text("nl", "segments.in_use", name="retail", **counts)
    assert "1 klant, 0 openstaande toestemmingsvragen, 2 check-ins en 1 hypothese," in dutch
    english = catalog.text("en", "segments.in_use", name="retail", **counts)
    assert "1 customer, 0 open consent questions, 2 check-ins and 1 hypothesis belong" in english


def test_no_text_hedges_a_plural_with_brackets() -> None:
    catalog = Catalog.load()
    hedged = re.compile(r"\w\((?:s|en|es|e)\)|/-\w")
    for language in LANGUAGES:
        for key in sorted(catalog.keys(language)):
            assert not hedged.search(catalog.template(language, key)), (language, key)


@pytest.mark.parametrize(
    ("language", "day_month", "with_weekday", "month"),
    [
        ("nl", "3 december", "do 3 december", "januari"),
        ("en", "3 December", "Thu 3 December", "January"),
    ],
)
def test_dates_are_written_in_the_language(
    language: str, day_month: str, with_weekday: str, month: str
) -> None:
    catalog = Catalog.load()
    day = date(2026, 12, 3)
    assert catalog.date(language, day) == day_month
    assert catalog.date(language, datetime(2026, 12, 3, 23, 30)) == day_month
    assert catalog.date(language, day, weekday=True) == with_weekday
    assert catalog.months(language)[0] == month
    assert len(catalog.months(language)) == 12


@pytest.mark.parametrize(
    ("language", "mean", "big"), [("nl", "3,2", "1.234,5"), ("en", "3.2", "1,234.5")]
)
def test_numbers_are_written_the_language_way(language: str, mean: str, big: str) -> None:
    catalog = Catalog.load()
    assert catalog.number(language, 19 / 6, 1) == mean
    assert catalog.number(language, 1234.5, 1) == big
    assert catalog.number(language, 7) == "7"


def test_a_plural_without_the_forms_of_its_language_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[a]\nb = "{n:one=# day|other=# days}"\n')
    (tmp_path / "nl.toml").write_text('[a]\nb = "{n:one=# dag}"\n')
    with pytest.raises(CatalogError, match=r"a\.b in nl: the plural of \{n\} needs the forms"):
        Catalog.load(tmp_path)


def test_a_plural_parameter_must_be_a_number() -> None:
    catalog = Catalog.load()
    with pytest.raises(TypeError, match="needs a number"):
        catalog.text("en", "tell.theme_line", label="x", count="some")
