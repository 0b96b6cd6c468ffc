"""Excel exports: every workbook the system hands out is built through these helpers.

Formula injection (issue 13): a text cell that starts with = + - @, a tab or a carriage return
can be taken for a formula by Excel or by whoever re-types it — a unit or person named
`=HYPERLINK("http://…","点这里")` would become a live link. Such text is written as a string
cell with Excel's quote prefix, so it shows and stays exactly as typed. openpyxl is imported
inside the functions: the web process only pays for it when someone exports (SPEC §10 memory).
"""
from __future__ import annotations

import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook():
    from openpyxl import Workbook
    return Workbook()


def _cell(ws, value):
    """Risky text as a string cell with the quote prefix; everything else as openpyxl would write it."""
    if not (isinstance(value, str) and value.startswith(FORMULA_STARTS)):
        return value
    from openpyxl.cell.cell import Cell
    cell = Cell(ws, value=value)
    cell.data_type = "s"      # openpyxl marks text starting with "=" as a formula
    cell.quotePrefix = True   # and Excel keeps it text when the cell is edited
    return cell


def append(ws, values, bold: bool = False, size: int | None = None) -> None:
    """One row at the bottom of `ws` (the only way rows are written: see the module doc)."""
    ws.append([_cell(ws, v) for v in values])
    if bold or size:
        from openpyxl.styles import Font
        font = Font(bold=bold, size=size)
        for cell in ws[ws.max_row]:
            cell.font = font


def to_bytes(book) -> bytes:
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
