"""The language catalogs: complete in both languages, valid Telegram HTML, and escaping."""

from __future__ import annotations

import re
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
