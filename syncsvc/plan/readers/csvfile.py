"""A plan exported as CSV: semicolons (Norwegian Excel), commas or tabs, found from the text.

Pure. A row with only its first cell filled is a paragraph; the others are table rows, with
their line number (the first line of a quoted cell that spans lines).
"""

from __future__ import annotations

import csv
import io

from syncsvc.domain.errors import Where
from syncsvc.domain.plan import Problem, ProblemKind, Severity
from syncsvc.plan.document import Block, Document
from syncsvc.plan.readers.cells import block_of

_DELIMITERS = (";", ",", "\t")


def delimiter_of(text: str) -> str:
    """The delimiter that splits the first lines most evenly into two or more fields."""
    lines = [line for line in text.split("\n")[:20] if line.strip()]
    best, best_score = ";", -1
    for d in _DELIMITERS:
        counts = [line.count(d) for line in lines]
        if not counts or max(counts) == 0:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * (common > 0)
        if score > best_score:
            best, best_score = d, score
    return best


def looks_like_csv(text: str) -> bool:
    lines = [line for line in text.split("\n")[:20] if line.strip()]
    if len(lines) < 2:
        return False
    d = delimiter_of(text)
    counts = [line.count(d) for line in lines]
    return d != "\t" and min(counts) >= 1 and counts.count(counts[0]) >= len(counts) * 0.8


def read_csv(text: str, name: str) -> Document:
    blocks: list[Block] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
    line = 1
    try:
        for values in reader:
            block = block_of([v.strip() for v in values], line)
            if block is not None:
                blocks.append(block)
            line = reader.line_num + 1
    except csv.Error as err:
        problems.append(
            Problem(
                ProblemKind.OTHER,
                Severity.ERROR,
                f"the CSV breaks off here ({err}); the rest of the file is not read",
                Where(name, line),
            )
        )
    return Document(name, tuple(blocks), "csv", tuple(problems))
