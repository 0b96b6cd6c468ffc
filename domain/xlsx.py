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


class Stream:
    """A workbook written row by row in constant memory (long exports, SPEC §8): XlsxWriter's
    constant_memory mode flushes each row to a temporary file as the next one starts, so a
    million rows take no more memory than ten. Rows go in order; nothing is read back.

    Cells follow the rule above: text starting with = + - @, a tab or a carriage return is a
    string cell with the quote prefix (never a formula); other text, numbers, dates and times as
    themselves (datetimes naive, already in the company's time)."""

    def __init__(self, path, sheet: str, widths=(), tmpdir=None):
        import xlsxwriter
        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "tmpdir": str(tmpdir) if tmpdir else None,
            # text stays text: no formula, URL or number guessing
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
        self.sheet = self.book.add_worksheet(sheet[:31])
        self.row = 0
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.bold = self.book.add_format({"bold": True})
        self.when = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.day = self.book.add_format({"num_format": "yyyy-mm-dd"})
        for column, width in enumerate(widths):
            self.sheet.set_column(column, column, width)

    def append(self, values, bold: bool = False) -> None:
        from datetime import date, datetime
        from decimal import Decimal
        sheet, r = self.sheet, self.row
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                if value.startswith(FORMULA_STARTS):
                    sheet.write_string(r, c, value, self.quoted)
                else:
                    sheet.write_string(r, c, value, self.bold if bold else None)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(r, c, float(value) if isinstance(value, Decimal) else value)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, self.when)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, self.day)
            else:
                raise TypeError(f"no Excel cell for {type(value).__name__}")
        self.row += 1

    def freeze_header(self) -> None:
        self.sheet.freeze_panes(1, 0)

    def close(self) -> None:
        self.book.close()
