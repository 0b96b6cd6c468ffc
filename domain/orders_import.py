"""Importing monthly order volumes from a CSV file (SPEC §8): columns month, unit, orders — the
unit by its name (上海徐汇店) or its path (上海分公司/上海徐汇店) — one line per unit and month.

The file is read as UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or GBK/GB18030
(Excel's plain "CSV" on a Chinese Windows). `plan` checks every line and lists every problem
with its line number; the administrator sees the changes (a preview) and confirms; `apply` then
writes all of them or, if anything is wrong, none (the caller commits once). A confirmation
carries the preview's digest: if the stored figures changed since, the import is shown again.
"""
from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from domain.errors import InvalidInput, N_
from domain.orders import Change, all_units, orders_for, parse_month, parse_orders, shown

MAX_BYTES = 256 * 1024
MAX_LINES = 5000
HEADER_WORDS = {"month", "月份", "月", "年月", "unit", "单位", "门店", "分公司", "单位名称", "门店名称", "orders",
                "订单量", "订单数", "订单"}


@dataclass
class Plan:
    encoding: str
    changes: list[Change] = field(default_factory=list)      # one per line with a number (also unchanged)
    blank: int = 0                                           # lines whose orders cell was empty: left as they are
    problems: list[tuple[int, InvalidInput]] = field(default_factory=list)   # (line number, what is wrong)

    @property
    def effective(self) -> list[Change]:
        return [c for c in self.changes if c.kind != "same"]

    def digest(self) -> str:
        """What confirming would write, as the preview showed it (old and new values)."""
        text = "\n".join(f"{c.unit_id}|{c.month}|{c.old}|{c.new}" for c in sorted(
            self.effective, key=lambda c: (c.month, c.unit_id)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in; InvalidInput for what is not a CSV text."""
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InvalidInput(N_("文件是空的。"), field="file")
    if len(data) > MAX_BYTES:
        raise InvalidInput(N_("文件太大：最多 256 KB（约 5000 行）。"), field="file")
    if data.startswith(b"PK\x03\x04"):
        raise InvalidInput(N_("这是 Excel 工作簿（.xlsx），请在 Excel 里“另存为”CSV 文件后再导入。"), field="file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise InvalidInput(N_("文件的编码无法识别，请存为 UTF-8 或 GBK 编码的 CSV 文件。"), field="file") from None
    else:
        try:
            text, encoding = data.decode("utf-8-sig"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("gb18030"), "GBK"
            except UnicodeDecodeError:
                raise InvalidInput(N_("文件的编码无法识别，请存为 UTF-8 或 GBK 编码的 CSV 文件。"),
                                   field="file") from None
    if "\x00" in text:
        raise InvalidInput(N_("这不是 CSV 文本文件，请在 Excel 里“另存为”CSV 后再导入。"), field="file")
    return text, encoding


def _records(text: str):
    """(line number, cells) for each non-blank record; the delimiter is a comma, or a tab when
    the first line has tabs and no commas (Excel's Unicode text)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start, None
            return
        if any(c.strip() for c in cells):
            yield start, [c.strip() for c in cells]
        start = reader.line_num + 1


class _Units:
    """Finds a branch or store by name or path; says why not in Chinese."""

    def __init__(self, session):
        from models.org import OrgUnit
        from sqlalchemy import select
        self.lines = all_units(session)
        self.others = {n for n, k in session.execute(select(OrgUnit.name, OrgUnit.kind)) if k not in ("branch", "store")}

    def find(self, value: str):
        text = unicodedata.normalize("NFC", value).replace("／", "/").replace("\\", "/")
        if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):    # as `template` writes such a name
            text = text[1:]
        parts = [p.strip() for p in text.split("/") if p.strip()]
        if not parts:
            raise InvalidInput(N_("没有写单位。"), field="file")
        found = [u for u in self.lines if text.strip() in (u.name, u.path)]     # also names with a "/" in them
        found = found or [u for u in self.lines if u.path.split("/")[-len(parts):] == parts]
        if not found and len(parts) > 1:          # the company's name in front: 某某食品/上海分公司/…
            found = [u for u in self.lines if u.path.split("/") == parts[1:]]
        active = [u for u in found if u.active]
        if len(active) == 1:
            return active[0]
        if len(active) > 1:
            raise InvalidInput(N_("有 %(n)d 个单位叫“%(value)s”，请写成“分公司/门店”。"), field="file",
                               n=len(active), value=shown(value))
        if found:
            raise InvalidInput(N_("“%(value)s”已停用。"), field="file", value=shown(value))
        if parts[-1] in self.others:
            raise InvalidInput(N_("“%(value)s”不是分公司或门店：订单量只按分公司和门店填写。"), field="file",
                               value=shown(value))
        raise InvalidInput(N_("没有叫“%(value)s”的分公司或门店。"), field="file", value=shown(value))


def _looks_like_header(cells) -> bool:
    return any(unicodedata.normalize("NFKC", c).strip().lower() in HEADER_WORDS for c in cells[:3])


def plan(session, data: bytes, today: date) -> Plan:
    """Read and check the whole file. Decoding problems raise InvalidInput; problems in lines are
    collected in Plan.problems with their line numbers, so that all of them are shown at once."""
    text, encoding = decode(data)
    out = Plan(encoding)
    units = _Units(session)
    seen: dict[tuple[int, str], int] = {}
    current: dict[str, dict[int, int]] = {}
    lines = 0

    def problem(number, err):
        out.problems.append((number, err))

    for number, cells in _records(text):
        if cells is None:
            problem(number, InvalidInput(N_("引号不成对或用得不对，从这一行起读不下去了。")))
            break
        if lines == 0 and _looks_like_header(cells):
            lines = -1                     # the header: not a data line
            continue
        lines = max(lines, 0) + 1
        if lines > MAX_LINES:
            raise InvalidInput(N_("行数太多：一次最多导入 %(max)d 行，请分成几个文件。"), field="file", max=MAX_LINES)
        while len(cells) > 3 and not cells[-1]:
            cells.pop()
        if len(cells) != 3:
            problem(number, InvalidInput(N_("需要三列：月份、单位、订单量（这一行有 %(n)d 列）。"), n=len(cells)))
            continue
        try:
            month = parse_month(cells[0], today)
            unit = units.find(cells[1])
            orders = parse_orders(cells[2])
        except InvalidInput as err:
            problem(number, err)
            continue
        first = seen.setdefault((unit.id, month), number)
        if first != number:
            problem(number, InvalidInput(N_("%(unit)s %(month)s 在第 %(first)d 行已经有了。"), unit=unit.path,
                                         month=month, first=first))
            continue
        if orders is None:
            out.blank += 1
            continue
        if month not in current:
            current[month] = orders_for(session, month)
        out.changes.append(Change(unit.id, unit.path, month, current[month].get(unit.id), orders))
    if not out.problems and not out.changes and not out.blank:
        raise InvalidInput(N_("文件里没有数据行。每行写：月份,单位,订单量，例如 2026-11,上海分公司/上海徐汇店,12000。"),
                           field="file")
    return out


def template(session, month: str) -> str:
    """The grid of `month` as a CSV to fill in (with a BOM, so that Excel reads it as UTF-8)."""
    from domain.orders import grid
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["月份", "单位", "订单量"])
    for line, orders in grid(session, month):
        writer.writerow([month, _cell(line.path), "" if orders is None else orders])
    return "\ufeff" + buffer.getvalue()


def _cell(text: str) -> str:
    """A unit name that a spreadsheet would take for a formula is written as text ('=…)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
