"""Binary forms of the corpus documents (DOCX, XLSX, ODS, PDF), built from their text source.

A corpus document `name.docx` is kept in the repository as `name.docx.txt`, a small markup that
says what the document holds, and is built here at test time with the library that real
office programs' files are read with (python-docx, openpyxl, odfpy) or, for PDF, fpdf2 (a text
layer like the one office programs write):

    # Heading                 a heading paragraph (Word "Heading 2")
    - text                    a bullet paragraph (Word "List Bullet")
    a<TAB>b<TAB>c             a table row; consecutive rows are one table
    (blank line)              ends a table; in a spreadsheet, an empty row
    other text                a paragraph (in a spreadsheet: a row with one cell)

Inside a cell, the two characters backslash and n are a line break within the cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

BINARY_FORMS = (".docx", ".xlsx", ".ods", ".pdf")


@dataclass
class Block:
    kind: str  # heading | bullet | para | table | blank
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


def parse_source(text: str) -> list[Block]:
    blocks: list[Block] = []
    for line in text.split("\n"):
        if "\t" in line:
            cells = [c.replace("\\n", "\n") for c in line.split("\t")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(Block("table", rows=[cells]))
        elif not line.strip():
            blocks.append(Block("blank"))
        elif line.startswith("# "):
            blocks.append(Block("heading", line[2:]))
        elif line.startswith("- "):
            blocks.append(Block("bullet", line[2:]))
        else:
            blocks.append(Block("para", line))
    while blocks and blocks[-1].kind == "blank":
        blocks.pop()
    return blocks


def to_docx(blocks: list[Block]) -> bytes:
    import docx

    document = docx.Document()
    for b in blocks:
        if b.kind == "heading":
            document.add_heading(b.text, level=2)
        elif b.kind == "bullet":
            document.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "para":
            document.add_paragraph(b.text)
        elif b.kind == "table":
            width = max(len(r) for r in b.rows)
            table = document.add_table(rows=0, cols=width)
            for r in b.rows:
                cells = table.add_row().cells
                for i, text in enumerate(r):
                    cells[i].text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _sheet_rows(blocks: list[Block]) -> list[list[str]]:
    rows: list[list[str]] = []
    for b in blocks:
        if b.kind == "table":
            rows.extend(b.rows)
        elif b.kind == "blank":
            rows.append([])
        else:
            rows.append([b.text])
    return rows


def to_xlsx(blocks: list[Block]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Plan"
    for r, row in enumerate(_sheet_rows(blocks), start=1):
        for c, text in enumerate(row, start=1):
            if text:
                # Numbers are numbers in a real sheet ("36" in a week column, "12" school days).
                sheet.cell(r, c, int(text) if text.isdigit() else text)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_ods(blocks: list[Block]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Plan")
    for row in _sheet_rows(blocks):
        tr = TableRow()
        for text in row:
            if text.isdigit():
                cell = TableCell(valuetype="float", value=text)
            else:
                cell = TableCell(valuetype="string") if text else TableCell()
            for line in text.split("\n") if text else []:
                cell.addElement(P(text=line))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def to_pdf(blocks: list[Block]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for b in blocks:
        if b.kind == "heading":
            pdf.set_font("helvetica", "B", 14)
            pdf.cell(0, 9, b.text, new_x="LMARGIN", new_y="NEXT")
        elif b.kind in ("para", "bullet"):
            pdf.set_font("helvetica", "", 11)
            text = f"- {b.text}" if b.kind == "bullet" else b.text
            pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        elif b.kind == "blank":
            pdf.ln(4)
        else:
            pdf.set_font("helvetica", "", 10)
            width = (pdf.w - pdf.l_margin - pdf.r_margin) / max(len(r) for r in b.rows)
            for r in b.rows:
                for text in r:
                    pdf.cell(width, 6, text.replace("\n", " "), border=1)
                pdf.ln(6)
    return bytes(pdf.output())


_BUILDERS = {".docx": to_docx, ".xlsx": to_xlsx, ".ods": to_ods, ".pdf": to_pdf}


def build(source: Path) -> tuple[str, bytes]:
    """(document name, bytes) for a `name.<form>.txt` source."""
    name = source.name.removesuffix(".txt")
    form = Path(name).suffix
    return name, _BUILDERS[form](parse_source(source.read_text(encoding="utf-8")))
