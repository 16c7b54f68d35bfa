"""One rule for the document libraries (python-docx, openpyxl, odfpy, pypdf): whatever a
library raises on a damaged file becomes one PlanError naming the file, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from syncsvc.domain.errors import PlanError, Where


@contextmanager
def damaged_as_plan_error(name: str, what: str) -> Iterator[None]:
    """`what`: the kind of file, for the message ("the workbook", "the PDF")."""
    try:
        yield
    except PlanError:
        raise
    except Exception as err:  # these libraries raise many types on damaged files
        raise PlanError(
            f"could not read {what}: {type(err).__name__}: {err}", where=Where(name)
        ) from err
