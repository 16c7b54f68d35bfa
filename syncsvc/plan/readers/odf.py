"""A plan in an OpenDocument file, read with odfpy: spreadsheets (.ods) and text (.odt).

Spreadsheet rows as in a workbook (dates as 03.09.2023; repeated rows and columns expanded
up to a limit); text documents as paragraphs, headings, list items and tables in order.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.document import Block, Cell, Document, Para, Row
from syncsvc.plan.readers.cells import block_of
from syncsvc.plan.readers.damaged import damaged_as_plan_error
from syncsvc.plan.readers.zipped import members

MAX_REPEAT = 200  # "number-columns-repeated=16384" fills a sheet's width with nothing
_SPREADSHEET = "mimetype:application/vnd.oasis.opendocument.spreadsheet"
_TEXT = "mimetype:application/vnd.oasis.opendocument.text"


def odf_kind(found: set[str]) -> str | None:
    if _SPREADSHEET in found:
        return "ods"
    if _TEXT in found:
        return "odt"
    return None


def _text(node: Any) -> str:
    """The text of an element: paragraphs joined with line breaks, spaces and tabs kept."""
    out: list[str] = []

    def walk(n: Any) -> None:
        for child in n.childNodes:
            if child.nodeType == child.TEXT_NODE:
                out.append(str(child.data))
                continue
            tag = child.qname[1] if hasattr(child, "qname") else ""
            if tag in ("p", "h") and out and not out[-1].endswith("\n"):
                out.append("\n")
            if tag == "s":
                out.append(" " * int(child.getAttribute("c") or 1))
            elif tag == "tab":
                out.append("\t")
            elif tag == "line-break":
                out.append("\n")
            else:
                walk(child)

    walk(node)
    return "".join(out).strip("\n")


def _repeat(node: Any, attr: str) -> int:
    try:
        return max(1, min(int(node.getAttribute(attr) or 1), MAX_REPEAT))
    except (ValueError, TypeError):
        return 1


def _cell_value(cell: Any) -> str:
    if cell.getAttribute("valuetype") == "date":
        raw = str(cell.getAttribute("datevalue") or "")[:10]
        try:
            d = date.fromisoformat(raw)
            return f"{d.day:02d}.{d.month:02d}.{d.year}"
        except ValueError:
            pass
    return _text(cell)


def _table_rows(table: Any, start: int) -> list[tuple[list[str], int]]:
    rows: list[tuple[list[str], int]] = []
    line = start
    for tr in table.getElementsByType(_table_row()):
        texts: list[str] = []
        for cell in tr.childNodes:
            if getattr(cell, "qname", ("", ""))[1] not in ("table-cell", "covered-table-cell"):
                continue
            value = _cell_value(cell)
            texts.extend([value] * _repeat(cell, "numbercolumnsrepeated"))
        for _ in range(_repeat(tr, "numberrowsrepeated") if any(texts) else 1):
            line += 1
            rows.append((list(texts), line))
    return rows


def _table_row() -> Any:
    from odf.table import TableRow

    return TableRow


def read_odf(data: bytes, name: str) -> Document:
    kind = odf_kind(members(data, name))
    if kind is None:
        raise PlanError("not an OpenDocument spreadsheet or text", where=Where(name))
    from odf.opendocument import load  # imported here so text-only use does not load it
    from odf.table import Table

    blocks: list[Block] = []
    with damaged_as_plan_error(name, "the OpenDocument file"):
        doc = load(io.BytesIO(data))
        if kind == "ods":
            last = 0
            for table in doc.spreadsheet.getElementsByType(Table):
                for texts, line in _table_rows(table, last):
                    last = line
                    block = block_of(texts, line)
                    if block is not None:
                        blocks.append(block)
        else:
            _walk_text(doc.text, blocks, [0])
    return Document(name, tuple(blocks), kind)


def _walk_text(node: Any, blocks: list[Block], rows: list[int]) -> None:
    for child in node.childNodes:
        tag = getattr(child, "qname", ("", ""))[1]
        if tag in ("p", "h"):
            for part in _text(child).split("\n"):
                if part.strip():
                    blocks.append(Para(part))
        elif tag == "table":
            for texts, number in _table_rows(child, rows[0]):
                rows[0] = number
                blocks.append(Row(tuple(Cell(t) for t in texts), number))
        elif tag in ("list", "list-item", "section", "list-header"):
            _walk_text(child, blocks, rows)
