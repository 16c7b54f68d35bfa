"""A plan in an Excel workbook (.xlsx), read with openpyxl: every sheet's rows, in order.

Values are read as shown (dates as 03.09.2023, times as 18:30, whole numbers without
decimals). A row with only its first cell filled is a paragraph (title, headings); the others
are table rows. `line` is the row number in its sheet.
"""

from __future__ import annotations

import io

from syncsvc.domain.errors import PlanError, Where
from syncsvc.plan.document import Block, Document
from syncsvc.plan.readers.cells import block_of, cell_text
from syncsvc.plan.readers.damaged import damaged_as_plan_error
from syncsvc.plan.readers.zipped import members

MAX_COLUMNS = 200  # a sheet claiming 16,384 columns is read up to here


def read_xlsx(data: bytes, name: str) -> Document:
    if "xl/workbook.xml" not in members(data, name):
        raise PlanError("not an Excel workbook (no xl/workbook.xml)", where=Where(name))
    import openpyxl  # imported here so text-only use does not load it

    blocks: list[Block] = []
    with damaged_as_plan_error(name, "the workbook"):
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                block = block_of([cell_text(v) for v in values[:MAX_COLUMNS]], n)
                if block is not None:
                    blocks.append(block)
        book.close()
    return Document(name, tuple(blocks), "xlsx")
