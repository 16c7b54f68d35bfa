"""A plan as a PDF with a text layer, read with pypdf (layout mode keeps columns apart).

Each text line is a paragraph, or a table row when it splits into three or more columns at
wide gaps. `line` counts text lines through the document. A PDF without text (a scanned
image) is refused: there is nothing to read without OCR.
"""

from __future__ import annotations

import io
import re

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.document import Block, Cell, Document, Para, Row
from syncsvc.plan.readers.damaged import damaged_as_plan_error

MAX_PAGES = 500
_GAP = re.compile(r"\s{3,}")


def read_pdf(data: bytes, name: str) -> Document:
    import pypdf  # imported here so text-only use does not load it

    with damaged_as_plan_error(name, "the PDF"):
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PlanError("the PDF is password-protected", where=Where(name))
        pages = [p.extract_text(extraction_mode="layout") for p in reader.pages[:MAX_PAGES]]
    if not any(p.strip() for p in pages):
        raise PlanError(
            "the PDF has no text layer (a scanned image?): export the plan from the program "
            "it was written in, as PDF, Word or text",
            where=Where(name),
        )
    blocks: list[Block] = []
    line = 0
    for page in pages:
        for raw in page.split("\n"):
            line += 1
            text = raw.strip()
            if not text:
                continue
            parts = _GAP.split(text)
            if len(parts) >= 3:
                blocks.append(Row(tuple(Cell(p) for p in parts), line))
            else:
                blocks.append(Para(text, line))
    return Document(name, tuple(blocks), "pdf")
