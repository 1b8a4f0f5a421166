"""How an import's preview and result read, for the bot and the command line alike."""

from __future__ import annotations

from bot.catalog import Catalog, Html
from bot.customer_base.importing import ImportReport
from bot.customer_base.rows import BadRow, FileProblem


def bad_row_line(catalog: Catalog, language: str, row: BadRow) -> Html:
    """ "line 7: no external id"."""
    why = catalog.text(language, row.key, **row.params)
    return catalog.text(language, "base.bad_line", line=row.line, why=why)


def file_problem_text(catalog: Catalog, language: str, problem: FileProblem) -> Html:
    """Why the file as a whole cannot be imported."""
    why = catalog.text(language, problem.key, **problem.params)
    return catalog.text(language, "base.file_refused", why=why)


def report_text(catalog: Catalog, language: str, report: ImportReport, *, preview: bool) -> Html:
    """The counts, the new segments, the bad rows, and what happens next."""
    text = catalog.text
    lines = [
        text(language, "base.preview_title" if preview else "base.done_title"),
        text(
            language,
            "base.counts",
            new=report.new,
            changed=report.changed,
            unchanged=report.unchanged,
            missing=report.missing,
            bad=report.bad,
        ),
    ]
    if report.new_segments:
        lines.append(text(language, "base.new_segments", names=", ".join(report.new_segments)))
    if report.bad:
        lines.append(text(language, "base.bad_title", bad=report.bad))
        lines += [bad_row_line(catalog, language, row) for row in report.bad_rows]
        if report.bad > len(report.bad_rows):
            lines.append(text(language, "base.bad_more", more=report.bad - len(report.bad_rows)))
    if not preview:
        if report.applied and report.marked_gone:
            lines.append(text(language, "base.gone_marked", gone=report.marked_gone))
        elif report.applied and report.missing:
            lines.append(text(language, "base.gone_kept", missing=report.missing))
        if report.blocked:
            lines.append(text(language, "base.nothing_written"))
    return Html("\n".join(lines))
