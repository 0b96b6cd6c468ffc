"""The accountability ledger over HTTP: the page, sorting, scope, and the Excel file cell by cell."""
import io

from openpyxl import load_workbook

from models import db
from tests.builders import as_user, register, unit
from tests.domain.test_ledger import NOV, build

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


def test_the_ledger_page_sorts_and_is_scoped(login_as, app):
    build(db.session)
    quality = login_as("quality")
    page = quality.get("/complaints/ledger", query_string={**PERIOD, "by": "store"}).get_data(as_text=True)
    assert "上海徐汇店" in page and "杭州西湖店" in page
    assert page.index("上海徐汇店") < page.index("杭州西湖店")            # most received first
    page = quality.get("/complaints/ledger", query_string={**PERIOD, "by": "store", "sort": "received",
                                                           "dir": "asc"}).get_data(as_text=True)
    assert page.index("杭州西湖店") < page.index("上海徐汇店")
    head = as_user(app, "xh_head")
    page = head.get("/complaints/ledger", query_string={**PERIOD, "by": "store"}).get_data(as_text=True)
    assert "上海徐汇店" in page and "杭州西湖店" not in page
    empty = quality.get("/complaints/ledger", query_string={"from": "2025-01-01", "to": "2025-01-31"})
    assert "这段时间没有受理的投诉" in empty.get_data(as_text=True)
    odd = quality.get("/complaints/ledger", query_string={"from": "yesterday", "by": "nonsense", "sort": "x;drop"})
    assert odd.status_code == 200


def test_the_excel_export_holds_the_same_numbers(login_as):
    build(db.session)
    quality = login_as("quality")
    resp = quality.get("/complaints/ledger.xlsx", query_string={**PERIOD, "by": "person"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert 'filename="ledger-person-2026-11-01-2026-11-30.xlsx"' in resp.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    assert sheet["A1"].value == "首问负责制责任台账" and sheet["B1"].value == "按人员 · 2026-11-01 — 2026-11-30"
    assert [c.value for c in sheet[2]] == ["姓名", "所属", "受理", "未结", "已结", "按时结案", "当前超时", "结案中位天数",
                                           "平均满意度", "二次投诉", "束之高阁", "按时结案率"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=3)}
    # (overdue "now" is today, past every November deadline)
    assert rows["陈晓"] == ["陈晓", "上海徐汇店", 5, 2, 3, 2, 2, 2.0, 4.0, 1, 1, round(2 / 3, 4)]
    assert rows["赵敏"] == ["赵敏", "杭州西湖店", 1, 1, 0, 0, 1, None, None, 0, 1, None]
    assert sheet.freeze_panes == "A3"


def test_quality_reviews_possible_concealment(login_as, app):
    xh = unit(db.session, "上海徐汇店").id
    c = register(db.session, "cs1", at=NOV, customer_phone="13900000001", extra={"complained_unit_id": xh})
    db.session.commit()
    quality = login_as("quality")
    period = {"from": "2026-10-01", "to": "2026-12-31"}
    page = quality.get("/complaints/store-audit", query_string=period).get_data(as_text=True)
    assert f'id="audit-{c.id}"' in page and "经 客服中心 受理" in page
    bad = quality.post(f"/complaints/{c.id}/concealment?from=2026-10-01&to=2026-12-31", {"verdict": "confirmed", "note": ""})
    assert bad.status_code == 422 and "请写明核查情况" in bad.get_data(as_text=True)
    assert quality.post(f"/complaints/{c.id}/concealment", {"verdict": "confirmed", "note": "门店未登记"}).status_code == 303
    page = quality.get("/complaints/store-audit", query_string=period).get_data(as_text=True)
    assert f'id="audit-{c.id}"' not in page and "确认瞒报/漏报" in page and "门店未登记" in page
    clerk = as_user(app, "receiver")
    assert clerk.get("/complaints/store-audit").status_code == 403
    assert clerk.post(f"/complaints/{c.id}/concealment", {"verdict": "dismissed", "note": "x"}).status_code == 403
