"""Forms of the seed plan for tests: the seed text itself, and HTML and DOCX made from it.

The seed (the real Årsplan 2024, a tab-separated export) is `config/arsplan-2024.txt`.
`seed_html` and `seed_docx` build the same table as HTML (with `<th>`, `<br>`, `<i>`, a rowspan
and colspans) and as a Word document (with vertical and horizontal merges), so every reader can
be checked against the text reading.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# The seed is the example plan the default configuration reads (a copy of the real one).
SEED_PATH = Path(__file__).resolve().parent.parent / "config" / "arsplan-2024.txt"
SEED_TEXT = SEED_PATH.read_text(encoding="utf-8")
SEED_LINES = tuple(SEED_TEXT.split("\n"))
SEED_NAME = "arsplan-2024.txt"

_MARKUP = re.compile(r"(</?[iub]>|\[[^\]]*\]\([^)]*\))")


@dataclass
class _Table:
    rows: list[list[str]]


def _blocks(text: str) -> Iterator[str | _Table]:
    """Paragraph lines and tables (runs of tab lines; blank lines inside a run are dropped)."""
    table: _Table | None = None
    for line in text.split("\n"):
        if "\t" in line:
            if table is None:
                table = _Table([])
            table.rows.append(line.split("\t"))
        elif line.strip():
            if table is not None:
                yield table
                table = None
            yield line
    if table is not None:
        yield table


def _merges(rows: list[list[str]]) -> set[int]:
    """Rows whose title cell is merged down into the continuation row after them."""
    return {i for i in range(len(rows) - 1) if rows[i][0].strip() and not rows[i + 1][0].strip()}


def _inline_html(text: str) -> str:
    out = []
    for part in _MARKUP.split(text):
        if _MARKUP.fullmatch(part):
            link = re.fullmatch(r"\[([^\]]*)\]\(([^)]*)\)", part)
            out.append(
                f'<a href="{html.escape(link[2])}">{html.escape(link[1])}</a>' if link else part
            )
        else:
            # A line break after the first sentence: the reader must read it as a space.
            out.append(html.escape(part).replace(". ", ".<br>", 1))
    return "".join(out)


def seed_html(text: str = SEED_TEXT) -> str:
    out = ["<!DOCTYPE html>", "<html><head><title>Årsplan</title>", "<script>x()</script>"]
    out.append("</head><body>")
    first = True
    for block in _blocks(text):
        if isinstance(block, str):
            tag = "h1" if first else "h2" if re.match(r"^(Våren|Høsten) \d{4}$", block) else "p"
            out.append(f"<{tag}>{_inline_html(block)}</{tag}>")
            first = False
            continue
        out.append('<table border="1">')
        merged = _merges(block.rows)
        for i, row in enumerate(block.rows):
            cell_tag = "th" if "DATO/TID" in row else "td"
            cells = []
            j = 1 if i - 1 in merged else 0  # the title cell is covered by the rowspan above
            while j < len(row):
                k = j
                while j > 0 and k < len(row) and not row[k].strip():
                    k += 1
                if k - j >= 2:
                    cells.append(f'<td colspan="{k - j}"></td>')
                    j = k
                    continue
                span = ' rowspan="2"' if j == 0 and i in merged else ""
                cells.append(f"<{cell_tag}{span}>{_inline_html(row[j])}</{cell_tag}>")
                j += 1
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def _add_runs(paragraph: object, text: str) -> None:
    italic = underline = False
    for part in _MARKUP.split(text):
        if part in ("<i>", "</i>"):
            italic = part == "<i>"
        elif part in ("<u>", "</u>"):
            underline = part == "<u>"
        elif part in ("<b>", "</b>"):
            continue
        elif part:
            link = re.fullmatch(r"\[([^\]]*)\]\(([^)]*)\)", part)
            first, sep, rest = (link[1] if link else part).partition(". ")
            run = paragraph.add_run(first + sep.rstrip())  # type: ignore[attr-defined]
            run.italic, run.underline = italic, underline
            if sep and rest:
                run.add_break()  # a soft line break in the cell
                tail = paragraph.add_run(rest)  # type: ignore[attr-defined]
                tail.italic, tail.underline = italic, underline


def seed_docx(text: str = SEED_TEXT) -> bytes:
    import docx

    document = docx.Document()
    for block in _blocks(text):
        if isinstance(block, str):
            _add_runs(document.add_paragraph(), block)
            continue
        width = max(len(r) for r in block.rows)
        table = document.add_table(rows=len(block.rows), cols=width)
        merged = _merges(block.rows)
        for i, row in enumerate(block.rows):
            for j, value in enumerate(row):
                if value:
                    _add_runs(table.cell(i, j).paragraphs[0], value)
        for i in sorted(merged):
            table.cell(i, 0).merge(table.cell(i + 1, 0))
        last = block.rows[-1]
        empty = [j for j in range(1, len(last)) if not last[j].strip()]
        if len(empty) >= 2 and empty[-1] - empty[0] == len(empty) - 1:
            table.cell(len(block.rows) - 1, empty[0]).merge(
                table.cell(len(block.rows) - 1, empty[-1])
            )
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
