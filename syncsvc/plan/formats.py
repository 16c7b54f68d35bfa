"""The names of the plan readers (`plan.format`), without loading any reader.

`<layout>-<form>`: a layout (`table`, `list`, `grid`, `week`) and a file form (`text`,
`html`, `docx`, `xlsx`, `ods`, `odt`, `csv`, `pdf`); a form alone (the layout found from the
content); `auto` (both found); `canonical` (YAML/TOML); `activity-list`, the old name of
`list-text`.
"""

from __future__ import annotations

FORMS = ("text", "html", "docx", "xlsx", "ods", "odt", "csv", "pdf")
LAYOUTS = ("table", "list", "grid", "week")
ALIASES = {"activity-list": "list-text"}
FORMATS = (
    "auto",
    "canonical",
    *FORMS,
    *(f"{layout}-{form}" for layout in LAYOUTS for form in FORMS),
    *ALIASES,
)


def is_format(name: str) -> bool:
    return name in FORMATS
