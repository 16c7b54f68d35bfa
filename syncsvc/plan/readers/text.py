"""The annual-plan table as a tab-separated text export (Word/Excel "save as text").

One physical line is one block: a line with a tab is a table row, any other line a paragraph.
Inline markup the export left behind (`<i>…</i>`, `<u>…</u>`, `[text](url)`, `**bold**`) is
stripped to its text.
"""

from __future__ import annotations

import html
import re

from syncsvc.plan.document import Cell, Document, Para, Row

_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MARKUP_CHAR = re.compile(r"[<\[*_&]")  # text without one of these has no markup


def strip_inline(text: str) -> str:
    """Text without the export's inline markup: '<i>Dag1:</i> x' -> 'Dag1: x'."""
    if _MARKUP_CHAR.search(text) is None:
        return text
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    return html.unescape(text) if "&" in text else text


def read_text_table(text: str, name: str) -> Document:
    blocks: list[Row | Para] = []
    # Only "\n" ends a line: Word writes manual line breaks inside cells as "\v".
    for n, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if "\t" in line:
            blocks.append(Row(tuple(Cell(strip_inline(c)) for c in line.split("\t")), n))
        elif line.strip():
            blocks.append(Para(strip_inline(line), n))
    return Document(name, tuple(blocks), "table-text")
