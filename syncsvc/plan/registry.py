"""The plan readers: which file format a plan is in, and which layout it is written in.

A reader name is `<layout>-<form>`: the layout (`table`, `list`, `grid`) and the file form
(`text`, `html`, `docx`, `xlsx`, `ods`, `odt`, `csv`, `pdf`), or `canonical` (YAML/TOML).
`format = "auto"` finds the form from the extension, the content type and the bytes, then the
layout from the content; a form alone (`format = "pdf"`) fixes the form and finds the layout;
`activity-list` is the old name of `list-text`. The chosen name is `plan.extra["format"]`.

Pure: bytes in, `Document` out (the format readers), then `Document` in, `Document` out (the
layouts). Limits on document size belong in the format readers' building step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.columns import Column, detect_header
from syncsvc.plan.document import Document, Para, Row, clean
from syncsvc.plan.formats import ALIASES, LAYOUTS
from syncsvc.plan.layouts.grid import is_grid, read_grid
from syncsvc.plan.layouts.lists import lines_of, read_list
from syncsvc.plan.layouts.tables import dated_table_rows, read_tables
from syncsvc.plan.layouts.weeks import is_week_plan, read_weeks
from syncsvc.plan.lines import read_line
from syncsvc.plan.readers.csvfile import looks_like_csv, read_csv
from syncsvc.plan.readers.docx import read_docx_table
from syncsvc.plan.readers.html import read_html_table
from syncsvc.plan.readers.odf import odf_kind, read_odf
from syncsvc.plan.readers.pdf import read_pdf
from syncsvc.plan.readers.text import read_text_table
from syncsvc.plan.readers.xlsx import read_xlsx
from syncsvc.plan.readers.zipped import members
from syncsvc.plan.source import decode_text, suffix_of
from syncsvc.plan.years import month_heading

_EXTENSIONS = {
    ".docx": "docx", ".html": "html", ".htm": "html", ".xhtml": "html", ".xlsx": "xlsx",
    ".xlsm": "xlsx", ".ods": "ods", ".odt": "odt", ".csv": "csv", ".pdf": "pdf",
    ".yaml": "canonical", ".yml": "canonical", ".toml": "canonical",
    ".txt": "text", ".tsv": "text", ".md": "text",
}  # fmt: skip
_CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/yaml": "canonical",
    "application/x-yaml": "canonical",
    "text/yaml": "canonical",
    "application/toml": "canonical",
}
_HTML = re.compile(r"<(?:!doctype\s+html|html|table|body)\b", re.IGNORECASE)
_CANONICAL_KEY = re.compile(r"^(?:title|year|items|people|\[\[items\]\])\s*[:=\]]?", re.M)


def _zip_form(data: bytes, name: str) -> str:
    found = members(data, name)
    if "word/document.xml" in found:
        return "docx"
    if "xl/workbook.xml" in found:
        return "xlsx"
    kind = odf_kind(found)
    if kind is not None:
        return kind
    raise PlanError(
        "a zip file that is neither Word (.docx), Excel (.xlsx) nor OpenDocument (.ods/.odt)",
        where=Where(name),
    )


def detect_form(data: bytes, name: str, content_type: str | None) -> str:
    """The file form: by the bytes for binary files, else extension, content type, text."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_form(data, name)
    by_ext = _EXTENSIONS.get(suffix_of(name))
    if by_ext in ("html", "csv", "canonical"):
        return by_ext
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype in _CONTENT_TYPES and _CONTENT_TYPES[ctype] in ("html", "csv", "canonical"):
        return _CONTENT_TYPES[ctype]
    text, _ = decode_text(data, name)
    head = text[:20000]
    if _HTML.search(head):
        return "html"
    if by_ext is None and "\t" not in head and looks_like_csv(head):
        return "csv"
    if by_ext is None and _CANONICAL_KEY.search(head) and not _has_plan_lines(head):
        return "canonical"
    return "text"


def _has_plan_lines(text: str) -> bool:
    return any(month_heading(line) for line in text.split("\n")[:200])


def _text_reader(reader: Callable[[str, str], Document]) -> Callable[[bytes, str], Document]:
    def read(data: bytes, name: str) -> Document:
        text, problems = decode_text(data, name)
        return replace(reader(text, name), problems=problems)

    return read


_READERS: dict[str, Callable[[bytes, str], Document]] = {
    "text": _text_reader(read_text_table),
    "html": _text_reader(read_html_table),
    "csv": _text_reader(read_csv),
    "docx": read_docx_table,
    "xlsx": read_xlsx,
    "ods": read_odf,
    "odt": read_odf,
    "pdf": read_pdf,
}


def read_form(form: str, data: bytes, name: str) -> Document:
    return _READERS[form](data, name)


_TRIED = {
    "table": "a table with a header row naming the activity and the date (ARBEIDSOPPGAVER "
    "and DATO/TID, Aktivitet and Dato, Hva and Når …) or a column of dates",
    "grid": "a header row of month names (Jan. Feb. … Des.) with day numbers below",
    "week": "a header row of weekdays (Mandag Tirsdag … Fredag) with a row per week",
    "list": "lines with dates ('9. januar: Samarbeidsmøte', 'Veke 41 Haustferie'), "
    "maybe under month headings",
}


def _known_header(doc: Document) -> bool:
    for b in doc.blocks:
        if isinstance(b, Row):
            header = detect_header([clean(c.text) for c in b.cells], b.line)
            if header is not None and {Column.DATES, Column.WEEK} & header.index.keys():
                return True
    return False


def _dated_lines(doc: Document, enough: int) -> int:
    """How many of the paragraphs are dated lines, counted up to `enough` (all it takes to
    decide: the list reader reads them all again)."""
    count, month = 0, None
    for line in lines_of(
        Document(doc.name, tuple(b for b in doc.blocks if isinstance(b, Para)), "")
    ):
        heading = month_heading(line.text)
        if heading is not None:
            month = heading[0]
        elif read_line(line.text, month=month) is not None:
            count += 1
            if count >= enough:
                break
    return count


def choose_layout(doc: Document, form: str) -> str:
    """The layout the document is written in; PlanError naming what was tried."""
    if _known_header(doc):
        return "table"
    if is_grid(doc):
        return "grid"
    if is_week_plan(doc):
        return "week"
    # Whichever holds more dates: a page with a table of dates and a dated line or two around
    # it is a table; a month-by-month list with a small table in it is a list.
    rows = dated_table_rows(doc)
    lines = _dated_lines(doc, enough=rows + 1)  # more lines than rows: a list, however many
    if rows and rows >= lines:
        return "table"
    if lines:
        return "list"
    tried = "; ".join(f"{layout}: {_TRIED[layout]}" for layout in LAYOUTS)
    raise PlanError(
        f"no plan found in this {form} document. Tried the readers for {tried}. "
        "Set `plan.format` to choose one",
        where=Where(doc.name),
    )


_LAYOUTS: dict[str, Callable[[Document], Document]] = {
    "table": read_tables,
    "list": read_list,
    "grid": read_grid,
    "week": read_weeks,
}


def read_document(
    data: bytes, name: str, format: str, content_type: str | None
) -> tuple[Document, str]:
    """(the document in plan-table rows, the reader name) for any format but canonical."""
    format = ALIASES.get(format, format)
    layout, _, form = format.rpartition("-") if "-" in format else ("", "", format)
    if format == "auto":
        layout, form = "", detect_form(data, name, content_type)
    doc = read_form(form, data, name)
    layout = layout or choose_layout(doc, form)
    shaped = _LAYOUTS[layout](doc)
    reader = f"{layout}-{form}"
    return replace(shaped, format=reader), reader
