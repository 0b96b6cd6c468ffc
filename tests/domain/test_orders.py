"""Monthly order volumes (SPEC §8): the figures the report reads, the grid, and the CSV import with
hostile files — every bad line named by its number, nothing half-imported."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from domain import orders, orders_import
from domain.errors import InvalidInput, InvalidInputs
from domain.orgtree import add_unit
from models.audit import AuditEvent
from models.report import OrderVolume
from tests.builders import unit, user

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 2)


def ids(session, *paths):
    return [unit(session, p).id for p in paths]


def put(session, path, month, n):
    session.add(OrderVolume(unit_id=unit(session, path).id, month=month, orders=n, updated_at=NOW))
    session.flush()


def test_orders_for_and_total_orders(session, company):
    xh, pd, sh, hz = ids(session, "上海徐汇店", "上海浦东店", "上海分公司", "杭州西湖店")
    put(session, "上海徐汇店", "2026-11", 12000)
    put(session, "上海浦东店", "2026-11", 0)              # a known zero
    put(session, "上海分公司", "2026-11", 3000)             # the branch's own orders
    put(session, "上海徐汇店", "2026-10", 11000)
    assert orders.orders_for(session, "2026-11") == {xh: 12000, pd: 0, sh: 3000}
    assert orders.orders_for(session, "2026-11", [xh, hz]) == {xh: 12000}
    assert orders.orders_for(session, "2026-11", []) == {}
    assert orders.total_orders(session, "2026-11") == 15000
    assert orders.total_orders(session, "2026-11", [pd]) == 0                   # 0, not unknown
    assert orders.total_orders(session, "2026-11", [hz]) is None                # unknown
    assert orders.total_orders(session, "2026-11", set()) is None
    assert orders.total_orders(session, "2026-09") is None
    with pytest.raises(ValueError):
        orders.orders_for(session, "2026-13")
    with pytest.raises(ValueError):
        orders.total_orders(session, "2026/11")


@pytest.mark.parametrize("typed, expected", [
    ("0", 0), ("12000", 12000), ("12,000", 12000), ("１２０００", 12000), (" 7 ", 7), ("1234.00", 1234),
    ("1000000000", 10**9), ("", None), ("  ", None)])
def test_numbers_that_are_orders(typed, expected):
    assert orders.parse_orders(typed) == expected


@pytest.mark.parametrize("typed, says", [
    ("-1", "负数"), ("1.5", "整数"), ("1000000001", "太大"), ("9" * 5000, "太大"), ("1E+09", "不是订单数"),
    ("=1+1", "不是订单数"), ("=HYPERLINK(\"http://x\")", "不是订单数"), ("+5", "不是订单数"), ("@SUM(A1)", "不是订单数"),
    ("12,34", "不是订单数"), ("十二", "不是订单数"), ("0x10", "不是订单数")])
def test_numbers_that_are_not(typed, says):
    with pytest.raises(InvalidInput) as err:
        orders.parse_orders(typed)
    assert says in str(err.value)


@pytest.mark.parametrize("typed, month", [
    ("2026-11", "2026-11"), ("2026/11", "2026-11"), ("2026.1", "2026-01"), ("2026年11月", "2026-11"),
    ("202611", "2026-11"), ("2026/11/1", "2026-11"), ("2026-11-01", "2026-11"), ("２０２６－１２", "2026-12")])
def test_months(typed, month):
    assert orders.parse_month(typed, TODAY) == month


@pytest.mark.parametrize("typed, says", [
    ("2027-01", "还没到"), ("1999-12", "太早"), ("2026-13", "不是月份"), ("11/2026", "不是月份"),
    ("2026-02-30", "不是月份"), ("=NOW()", "不是月份"), ("", "请填写月份")])
def test_not_months(typed, says):
    with pytest.raises(InvalidInput) as err:
        orders.parse_month(typed, TODAY)
    assert says in str(err.value)


def test_the_grid_lists_active_branches_each_followed_by_its_stores(session, company):
    unit(session, "南京河西店").active = False
    session.flush()
    put(session, "上海徐汇店", "2026-11", 12000)
    rows = orders.grid(session, "2026-11")
    assert [(line.path, value) for line, value in rows][:4] == [
        ("上海分公司", None), ("上海分公司/上海徐汇店", 12000), ("上海分公司/上海浦东店", None), ("上海分公司/上海静安店", None)]
    paths = [line.path for line, _v in rows]
    assert "南京分公司/南京新街口店" in paths and "南京分公司/南京河西店" not in paths
    assert not any("食品厂" in p or "部" in p for p in paths)             # branches and stores only


def test_saving_a_month_writes_the_changes_and_audits_each(session, company):
    admin = user(session, "admin")
    xh, pd, ja, sh = ids(session, "上海徐汇店", "上海浦东店", "上海静安店", "上海分公司")
    put(session, "上海浦东店", "2026-11", 500)
    put(session, "上海静安店", "2026-11", 800)
    loaded = {xh: "", pd: "500", ja: "800", sh: ""}
    changes = orders.save_month(session, admin, "2026-11", {xh: "12,000", pd: "", ja: "800", sh: "0"}, loaded,
                                now=NOW, ip="10.0.0.1")
    session.commit()
    assert {(c.path, c.kind) for c in changes} == {("上海分公司/上海徐汇店", "new"), ("上海分公司/上海浦东店", "cleared"),
                                                   ("上海分公司", "new")}
    assert orders.orders_for(session, "2026-11") == {xh: 12000, ja: 800, sh: 0}
    row = session.scalar(select(OrderVolume).where(OrderVolume.unit_id == xh))
    assert row.updated_by_id == admin.id and row.month == "2026-11"
    events = session.scalars(select(AuditEvent).where(AuditEvent.kind == orders.CHANGED).order_by(AuditEvent.id)).all()
    assert [(e.target, e.detail["old"], e.detail["new"], e.detail["via"]) for e in events] == [
        (f"orders:{sh}:2026-11", None, 0, "form"), (f"orders:{xh}:2026-11", None, 12000, "form"),
        (f"orders:{pd}:2026-11", 500, None, "form")]
    assert events[0].actor_id == admin.id and events[0].ip == "10.0.0.1" and events[0].detail["unit"] == "上海分公司"
    from domain.audit import KIND_LABELS
    assert KIND_LABELS[orders.CHANGED] == "订单量变更"


def test_every_bad_number_is_reported_and_nothing_is_saved(session, company):
    xh, pd, ja = ids(session, "上海徐汇店", "上海浦东店", "上海静安店")
    with pytest.raises(InvalidInputs) as err:
        orders.save_month(session, user(session, "admin"), "2026-11", {xh: "-3", pd: "100", ja: "=1+1"}, {},
                          now=NOW)
    assert {p.field for p in err.value.problems} == {f"u{xh}", f"u{ja}"}
    session.rollback()
    assert orders.orders_for(session, "2026-11") == {}


def test_a_figure_changed_meanwhile_is_not_overwritten(session, company):
    xh, pd = ids(session, "上海徐汇店", "上海浦东店")
    put(session, "上海徐汇店", "2026-11", 100)            # someone saved 100 after the form showed it empty
    with pytest.raises(InvalidInput) as err:
        orders.save_month(session, user(session, "admin"), "2026-11", {xh: "200", pd: "5"}, {xh: "", pd: ""}, now=NOW)
    assert "有人修改" in str(err.value) and "上海徐汇店" in str(err.value)
    session.rollback()
    # a figure the form left alone keeps what another admin stored meanwhile
    put(session, "上海徐汇店", "2026-11", 100)
    orders.save_month(session, user(session, "admin"), "2026-11", {xh: "", pd: "5"}, {xh: "", pd: ""}, now=NOW)
    assert orders.orders_for(session, "2026-11") == {xh: 100, pd: 5}


# --- the CSV import --------------------------------------------------------------------------

GOOD = "月份,单位,订单量\n2026-11,上海分公司/上海徐汇店,12000\n2026-11,上海浦东店,\"8,500\"\n2026/10/1,上海分公司,0\n"


@pytest.mark.parametrize("encoding, data", [
    ("UTF-8", GOOD.encode("utf-8")), ("UTF-8", b"\xef\xbb\xbf" + GOOD.encode("utf-8")),
    ("GBK", GOOD.encode("gbk")), ("GBK", GOOD.replace("\n", "\r\n").encode("gb18030")),
    ("UTF-16", GOOD.replace(",", "\t").replace('"8\t500"', "8500").encode("utf-16"))])
def test_a_good_file_in_any_encoding_excel_writes(session, company, encoding, data):
    xh, pd, sh = ids(session, "上海徐汇店", "上海浦东店", "上海分公司")
    put(session, "上海徐汇店", "2026-11", 11000)
    plan = orders_import.plan(session, data, TODAY)
    assert plan.encoding == encoding and plan.problems == []
    assert [(c.unit_id, c.month, c.old, c.new, c.kind) for c in plan.changes] == [
        (xh, "2026-11", 11000, 12000, "changed"), (pd, "2026-11", None, 8500, "new"), (sh, "2026-10", None, 0, "new")]
    assert orders.apply(session, user(session, "admin"), plan.effective, now=NOW, via="import") == 3
    assert orders.orders_for(session, "2026-11") == {xh: 12000, pd: 8500}
    assert orders.orders_for(session, "2026-10") == {sh: 0}
    assert orders_import.plan(session, data, TODAY).effective == []          # imported twice: nothing more


def test_every_bad_line_is_reported_with_its_number(session, company):
    session.add_all([add_unit(session, None, name="上海徐汇店", kind="store", parent=unit(session, "杭州分公司"), now=NOW)])
    unit(session, "南京河西店").active = False
    session.flush()
    text = "\n".join([
        "month,unit,orders",                                  # 1 header
        "2026-11,=HYPERLINK(\"http://evil\"),1",              # 2 formula as a unit: unknown
        "2026-11,上海浦东店,=1+1",                             # 3 formula as a number
        "2026-11,上海静安店,99999999999",                      # 4 huge
        "2026-11,北京王府井店,10",                             # 5 unknown unit
        "2026-11,上海静安店,-5",                               # 6 negative
        "2026-11,上海浦东店,100",                              # 7 good
        "2026-11,上海浦东店,100",                              # 8 duplicate of 7
        "2027-01,上海浦东店,100",                              # 9 future month
        "2026-11,上海徐汇店,1",                                # 10 two stores of that name
        "2026-11,南京河西店,1",                                # 11 inactive
        "2026-11,品管部,1",                                    # 12 a department
        "2026-11,上海浦东店",                                  # 13 two columns
        "",                                                   # 14 blank: ignored
        "2026-11,上海浦东店,1,extra",                          # 15 four columns
        "13/2026,杭州西湖店,1",                                # 16 not a month
        "2026-11,杭州分公司/上海徐汇店,1.5",                    # 17 a fraction (the path itself is fine)
        "2026-11,杭州分公司/上海徐汇店,7,,",                    # 18 good (Excel's empty trailing cells)
    ])
    plan = orders_import.plan(session, text.encode(), TODAY)
    lines = {line: str(err) for line, err in plan.problems}
    assert sorted(lines) == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15, 16, 17]
    assert "没有叫“=HYPERLINK(\"http://evil\")”" in lines[2]
    assert "“=1+1”不是订单数" in lines[3] and "太大" in lines[4] and "北京王府井店" in lines[5]
    assert "负数" in lines[6] and "第 7 行已经有了" in lines[8] and "还没到" in lines[9]
    assert "有 2 个单位叫“上海徐汇店”" in lines[10] and "已停用" in lines[11] and "不是分公司或门店" in lines[12]
    assert "需要三列" in lines[13] and "4 列" in lines[15] and "不是月份" in lines[16] and "整数" in lines[17]
    assert [(c.path, c.new) for c in plan.changes] == [("上海分公司/上海浦东店", 100), ("杭州分公司/上海徐汇店", 7)]
    assert session.scalar(select(OrderVolume.id)) is None       # a plan writes nothing


@pytest.mark.parametrize("data, says", [
    (b"", "空的"), (b"\xef\xbb\xbf", "空的"), (b"  \r\n\r\n", "空的"), ("月份,单位,订单量\n".encode(), "没有数据行"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "Excel 工作簿"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是 CSV"),
    (b"\xff\xfe" + b"\x00\xd8", "编码无法识别"), (b"2026-11,x,1\n" * 30000, "太大"),
    ("2026-11,上海浦东店,1\n".encode() * 5001, "行数太多"), (b'2026-11,"\xe4\xb8\x8a,1\n', "引号不成对")])
def test_files_that_are_not_an_import(session, company, data, says):
    try:
        plan = orders_import.plan(session, data, TODAY)
    except InvalidInput as err:
        message = str(err)
    else:
        message = " ".join(str(e) for _line, e in plan.problems)
    assert says in message


def test_the_template_reads_back_unchanged_even_with_formula_like_names(session, company):
    add_unit(session, None, name="=cmd|' /C calc'!A0", kind="store", parent=unit(session, "上海分公司"), now=NOW)
    put(session, "上海徐汇店", "2026-11", 12000)
    text = orders_import.template(session, "2026-11")
    assert text.startswith("\ufeff月份,单位,订单量\r\n2026-11,上海分公司,\r\n2026-11,上海分公司/上海徐汇店,12000\r\n")
    assert "\n2026-11,=" not in text and "上海分公司/=cmd" in text      # the path starts with the branch
    plan = orders_import.plan(session, text.encode("utf-8"), TODAY)
    assert plan.problems == [] and plan.effective == [] and plan.blank == len(orders.grid(session, "2026-11")) - 1


def test_the_digest_changes_when_the_stored_figures_do(session, company):
    data = "2026-11,上海浦东店,100\n".encode()
    before = orders_import.plan(session, data, TODAY).digest()
    assert orders_import.plan(session, data, TODAY).digest() == before
    put(session, "上海浦东店", "2026-11", 50)
    assert orders_import.plan(session, data, TODAY).digest() != before
