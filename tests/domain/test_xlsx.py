"""Excel cells that look like formulas stay text (issue 13: formula injection)."""
import io

from openpyxl import load_workbook

from domain import xlsx

RISKY = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=1+1"]


def test_risky_text_is_written_as_text_with_the_quote_prefix():
    book = xlsx.workbook()
    ws = book.active
    xlsx.append(ws, RISKY)
    xlsx.append(ws, ["上海徐汇店", 5, -2, 2.5, None, ""], bold=True)
    row = next(load_workbook(io.BytesIO(xlsx.to_bytes(book))).active.iter_rows(min_row=1, max_row=1))
    assert [c.data_type for c in row] == ["s"] * len(RISKY)
    assert all(c.quotePrefix for c in row)
    # XML reads a lone CR back as LF; every other value comes back exactly as written
    assert [c.value for c in row] == RISKY[:5] + ["\nx"] + RISKY[6:]
    plain = next(load_workbook(io.BytesIO(xlsx.to_bytes(book))).active.iter_rows(min_row=2, max_row=2))
    assert [c.value for c in plain][:6] == ["上海徐汇店", 5, -2, 2.5, None, None]   # numbers stay numbers
    assert [c.data_type for c in plain][:4] == ["s", "n", "n", "n"] and not plain[0].quotePrefix
    assert plain[0].font.b


def test_every_export_goes_through_the_helper():
    """A new export that builds its workbook with openpyxl directly would skip the guard above."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    direct = [str(p.relative_to(root)) for folder in ("domain", "blueprints", "jobs") for p in (root / folder).rglob("*.py")
              if "openpyxl" in p.read_text(encoding="utf-8") and p.name != "xlsx.py"]
    direct += ["cli.py"] if "openpyxl" in (root / "cli.py").read_text(encoding="utf-8") else []
    assert direct == [], "build Excel files with domain.xlsx"
