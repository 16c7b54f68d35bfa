"""The annual-plan table as an HTML page.

Parsed with the standard library's `html.parser` into a small tree (nothing is fetched or run).
Tables without nested tables are read as plan tables (`<th>`/`<td>`, rowspan, colspan); text
outside them becomes paragraphs (title, semester headings, contact list). A table that holds
other tables (a layout table) is looked into, so the plan table inside it is still found.
Rows are numbered 1, 2, ... across the page; that number is the `line` of `Where`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.document import Cell, Document, Para, Row

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_SKIP = frozenset(
    {"script", "style", "template", "noscript", "title", "svg", "math", "object", "iframe"}
    | {"nav"}  # site menus: never part of a plan
)
_TITLES = frozenset({"h1", "h2", "h3"})
_BLOCK = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd"}
    | {"section", "article", "header", "footer", "main", "nav", "aside", "blockquote", "pre"}
    | {"figure", "figcaption", "address", "hr", "br", "caption", "form", "fieldset", "body"}
    | {"html"}
)
_CELL = frozenset({"td", "th"})
_SECTION = frozenset({"thead", "tbody", "tfoot"})
_MAX_SPAN = 1000
_MAX_DEPTH = 200
# What the document may grow to, checked while it is built: a plan is tens of columns and a
# few thousand rows (a large one: ~1,000 rows x 15 columns). rowspan/colspan let a few bytes
# stand for millions of grid cells, so the grid is what is counted, not the page's size.
MAX_COLUMNS = 200  # grid columns in one row, spanned copies included
MAX_CELLS = 100_000  # grid cells in all the page's tables together
MAX_ELEMENTS = 400_000  # elements in the page (each is a tree node)


class _Limit(Exception):
    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """Builds a tolerant tree: closes cells, rows and paragraphs the page left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack: list[_Node] = [self.root]
        self.open: Counter[str] = Counter()  # open elements by tag: most lookups end here
        self.elements = 0

    def _nearest(self, tags: frozenset[str], stop: frozenset[str]) -> int | None:
        if not any(self.open[t] for t in tags):
            return None
        for i in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[i].tag
            if tag in tags:
                return i
            if tag in stop:
                return None
        return None

    def _close_to(self, i: int) -> None:
        for node in self.stack[i:]:
            self.open[node.tag] -= 1
        del self.stack[i:]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        table = frozenset({"table"})
        if tag in _BLOCK or tag == "table":
            # A page that never closed <title>/<head> must not lose its body.
            i = self._nearest(frozenset({"title", "head"}), frozenset())
            if i is not None:
                self._close_to(i)
        if tag in _CELL:
            i = self._nearest(_CELL | {"tr"}, table)
            if i is not None and self.stack[i].tag in _CELL:
                self._close_to(i)
            elif i is None and self._nearest(table, frozenset()) is not None:
                self.handle_starttag("tr", [])
        elif tag == "tr":
            i = self._nearest(frozenset({"tr"}), table)
            if i is not None:
                self._close_to(i)
        elif tag in _SECTION:
            i = self._nearest(_SECTION, table)
            if i is not None:
                self._close_to(i)
        elif tag in {"p", "li", "div", "table", "h1", "h2", "h3", "h4", "h5", "h6"}:
            i = self._nearest(frozenset({"p"}), _CELL | table)
            if i is not None:
                self._close_to(i)
            if tag == "li":
                i = self._nearest(frozenset({"li"}), frozenset({"ul", "ol"}) | _CELL | table)
                if i is not None:
                    self._close_to(i)
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _Limit(
                f"the HTML page has more than {MAX_ELEMENTS:,} elements"
                f" (limit: {MAX_ELEMENTS:,} elements)"
            )
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        # Past _MAX_DEPTH elements are flattened into their parent: the tree stays shallow
        # enough for the recursive walk, and a page of 50,000 nested <div>s stays linear.
        if tag not in _VOID and len(self.stack) < _MAX_DEPTH:
            self.stack.append(node)
            self.open[tag] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack[-1].tag == tag and len(self.stack) > 1:
            self._close_to(len(self.stack) - 1)

    def handle_endtag(self, tag: str) -> None:
        stop = frozenset({"table"}) if tag in _CELL | _SECTION | {"tr"} else frozenset()
        i = self._nearest(frozenset({tag}), stop)
        if i is not None:
            self._close_to(i)

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _has_table(node: _Node) -> bool:
    return any(isinstance(c, _Node) and (c.tag == "table" or _has_table(c)) for c in node.children)


def _text(node: _Node, out: list[str]) -> None:
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
        elif child.tag not in _SKIP:
            if child.tag in _BLOCK or child.tag in _CELL or child.tag == "tr":
                out.append(" ")
            _text(child, out)
            if child.tag in _BLOCK:
                out.append(" ")


def _span(value: str | None) -> int:
    try:
        n = int((value or "1").strip())
    except ValueError:
        return 1
    return min(max(n, 1), _MAX_SPAN)


@dataclass
class _Walker:
    rows: int = 0
    cells: int = 0  # grid cells so far, for MAX_CELLS
    blocks: list[Row | Para] = field(default_factory=list)
    para: list[str] = field(default_factory=list)

    def flush(self, heading: bool = False) -> None:
        text = "".join(self.para)
        self.para.clear()
        if text.strip():
            self.blocks.append(Para(text, None, heading))

    def walk(self, node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                self.para.append(child)
            elif child.tag in _SKIP:
                continue
            elif child.tag == "table":
                self.flush()
                if _has_table(child):
                    self.walk_layout(child)
                else:
                    self.table(child)
            elif child.tag in _BLOCK:
                self.flush()
                self.walk(child)
                self.flush(heading=child.tag in _TITLES)
            else:
                self.walk(child)

    def walk_layout(self, node: _Node) -> None:
        """A table that holds tables: its cells are containers, not plan cells."""
        for child in node.children:
            if isinstance(child, str):
                continue
            if child.tag in _CELL:
                self.flush()
                self.walk(child)
                self.flush()
            elif child.tag in _SECTION or child.tag == "tr":
                self.walk_layout(child)
            elif child.tag not in _SKIP:
                self.walk(child)

    def table(self, node: _Node) -> None:
        trs: list[_Node] = []
        for child in node.children:
            if isinstance(child, str):
                continue
            if child.tag == "caption":
                out: list[str] = []
                _text(child, out)
                self.blocks.append(Para("".join(out), None))
            elif child.tag == "tr":
                trs.append(child)
            elif child.tag in _SECTION:
                trs.extend(c for c in child.children if isinstance(c, _Node) and c.tag == "tr")
        pending: dict[int, tuple[int, str]] = {}  # grid column -> (rows still spanned, text)
        for tr in trs:
            self.rows += 1
            cells: list[Cell] = []

            for td in tr.children:
                if not isinstance(td, _Node) or td.tag not in _CELL:
                    continue
                _fill_spanned(cells, pending)
                out = []
                _text(td, out)
                text = "".join(out)
                rowspan, colspan = _span(td.attrs.get("rowspan")), _span(td.attrs.get("colspan"))
                start = len(cells)
                cells.append(Cell(text))
                cells.extend(Cell("") for _ in range(min(colspan, 100) - 1))
                if len(cells) > MAX_COLUMNS:
                    raise _Limit(
                        f"a table row is wider than {MAX_COLUMNS} columns"
                        f" (limit: {MAX_COLUMNS} columns per row, spanned cells included)",
                        self.rows,
                    )
                if rowspan > 1:
                    for k in range(len(cells) - start):
                        pending[start + k] = (rowspan - 1, text if k == 0 else "")
            while pending and max(pending) >= len(cells):
                if len(cells) in pending:
                    _fill_spanned(cells, pending)
                else:
                    cells.append(Cell(""))
            self.cells += len(cells) + 1  # an empty row costs a little too
            if self.cells > MAX_CELLS:
                raise _Limit(
                    f"the tables hold more than {MAX_CELLS:,} cells, spanned copies included"
                    f" (limit: {MAX_CELLS:,} cells)",
                    self.rows,
                )
            self.blocks.append(Row(tuple(cells), self.rows))


def _fill_spanned(cells: list[Cell], pending: dict[int, tuple[int, str]]) -> None:
    """Put the copies of cells merged down from rows above (rowspan) into this row."""
    while len(cells) in pending:
        left, text = pending[len(cells)]
        if left <= 1:
            del pending[len(cells)]
        else:
            pending[len(cells)] = (left - 1, text)
        cells.append(Cell(text, spanned=True))


def read_html_table(text: str, name: str) -> Document:
    try:
        builder = _TreeBuilder()
        builder.feed(text)
        builder.close()
        walker = _Walker()
        walker.walk(builder.root)
        walker.flush()
    except _Limit as err:
        raise PlanError(str(err), where=Where(name, err.row)) from None
    return Document(name, tuple(walker.blocks), "table-html")
