"""The annual-plan table as a Word document (.docx), read with python-docx.

Body paragraphs and tables are read in document order. Merged cells are read as the plan
reader expects: a horizontally merged cell gives its text to its first grid column; a vertically
merged cell (vMerge) is a spanned copy of the cell above. Rows are numbered 1, 2, ... across
the document; that number is the `line` of `Where`.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO
from xml.parsers import expat

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.document import Cell, Document, Para, Row
from syncsvc.plan.readers.damaged import damaged_as_plan_error
from syncsvc.plan.readers.zipped import ZIP_ERRORS

_MAX_UNPACKED = 200_000_000  # a zip bomb is refused before python-docx opens it
# python-docx (lxml) holds the whole body as a tree, a few hundred bytes per element, and a
# zip shrinks empty paragraphs a thousandfold. So the body is measured and its elements
# counted in one streaming pass before it is opened. A large real plan: a few MB of XML,
# ~5,000 paragraphs and cells, ~100,000 elements.
MAX_XML_MB = 64  # word/document.xml, unpacked
MAX_PARAGRAPHS = 100_000
MAX_CELLS = 100_000  # table cells (w:tc)
MAX_ELEMENTS = 1_000_000
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > _MAX_UNPACKED:
                raise PlanError("the .docx unpacks to more than 200 MB", where=Where(name))
            if "word/document.xml" not in z.namelist():
                raise PlanError("not a Word document (no word/document.xml)", where=Where(name))
            size = z.getinfo("word/document.xml").file_size
            if size > MAX_XML_MB * 1_000_000:
                raise PlanError(
                    f"word/document.xml unpacks to {size / 1e6:,.0f} MB"
                    f" (limit: {MAX_XML_MB} MB of XML)",
                    where=Where(name),
                )
            with z.open("word/document.xml") as body:
                _count_elements(body, name)
    # A damaged member fails while it is unpacked: bad data, truncation, an unknown method.
    except ZIP_ERRORS as err:
        raise PlanError(f"not a valid .docx file: {err}", where=Where(name)) from err


def _count_elements(body: IO[bytes], name: str) -> None:
    """Stream the body through expat (no tree), stopping at the first limit passed."""
    counts = {"elements": 0, "paragraphs": 0, "cells": 0}
    limits = {"elements": MAX_ELEMENTS, "paragraphs": MAX_PARAGRAPHS, "cells": MAX_CELLS}
    kinds = {f"{_W} p": "paragraphs", f"{_W} tc": "cells"}

    def start(tag: str, attrs: object) -> None:
        counts["elements"] += 1
        kind = kinds.get(tag)
        if kind:
            counts[kind] += 1
        for what in ("elements", kind):
            if what and counts[what] > limits[what]:
                raise PlanError(
                    f"the document has more than {limits[what]:,} {what}"
                    f" (limit: {limits[what]:,} {what})",
                    where=Where(name),
                )

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    try:
        while chunk := body.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as err:
        raise PlanError(f"the Word document's XML is damaged: {err}", where=Where(name)) from err


def read_docx_table(data: bytes, name: str) -> Document:
    _check_zip(data, name)
    import docx  # python-docx; imported here so text-only use does not load it
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    with damaged_as_plan_error(name, "the Word document"):
        document = docx.Document(io.BytesIO(data))
        blocks: list[Row | Para] = []
        rows = 0
        for part in document.iter_inner_content():
            if isinstance(part, Paragraph):
                # Soft line breaks separate lines (the contact list is often one paragraph).
                style = (part.style.name if part.style is not None else "") or ""
                heading = style.startswith(("Heading", "Title", "Overskrift", "Tittel"))
                blocks.extend(
                    Para(line, None, heading) for line in part.text.split("\n") if line.strip()
                )
            elif isinstance(part, Table):
                above: dict[int, str] = {}  # grid column -> text of the cell merged downwards
                for tr in part._tbl.tr_lst:
                    rows += 1
                    cells: list[Cell] = [Cell("") for _ in range(tr.grid_before)]
                    for tc in tr.tc_lst:
                        col, span = len(cells), max(1, min(int(tc.grid_span), 100))
                        if tc.vMerge == "continue":
                            cells.append(Cell(above.get(col, ""), spanned=True))
                        else:
                            text = _Cell(tc, part).text
                            cells.append(Cell(text))
                            above[col] = text
                        cells.extend(Cell("") for _ in range(span - 1))
                    blocks.append(Row(tuple(cells), rows))
    return Document(name, tuple(blocks), "table-docx")
