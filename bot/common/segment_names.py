"""Segment names: what a name may be, and the default segment's built-in name in the
reader's language, and back.

Migration 001 names the segment of customers who start without an invite link "general".
Until an admin renames it, that name is Pulse's, not the team's: it is shown translated
("algemeen" to a Dutch reader), and either language's word names it in a command. A name an
admin chose is shown as it was written.
"""

from __future__ import annotations

import re

from bot.catalog import LANGUAGES, Catalog

BUILT_IN = "general"
_KEY = "segment_names.general"


def shown(catalog: Catalog, language: str, name: str) -> str:
    """How a segment's name reads in `language`."""
    if name.lower() == BUILT_IN:
        return catalog.text(language, _KEY)
    return name


def meant(catalog: Catalog, name: str) -> str:
    """The stored name an admin means by `name`: the built-in name in any language is it."""
    spoken = " ".join(name.split()).lower()
    if any(spoken == catalog.text(language, _KEY).lower() for language in LANGUAGES):
        return BUILT_IN
    return name


SEGMENT_NAME = re.compile(r"^\w[\w &.\-]{0,31}$")


class InvalidSegmentName(ValueError):
    """A segment name: 1 to 32 letters, digits, spaces, or - _ & . after the first."""


def clean_segment_name(raw: str) -> str:
    """The segment name with spaces normalised; raises InvalidSegmentName."""
    name = " ".join(raw.split())
    if not SEGMENT_NAME.match(name):
        raise InvalidSegmentName(raw)
    return name
