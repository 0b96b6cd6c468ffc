"""The administrator's order volumes over HTTP (SPEC §8): the month grid, the CSV template, and the
import — preview, confirmation, every bad line shown, nothing half-imported, a stale preview."""
import io
import re

from sqlalchemy import func, select

from domain import orders
from domain.settings import company_tz
from models import db, utcnow
from models.audit import AuditEvent
from models.report import OrderVolume
from tests.builders import unit


def months():
    """(last month, this month, an older month than the picker offers)"""
    recent = orders.recent_months(utcnow().astimezone(company_tz()).date())
    return recent[1], recent[0], orders.shift(recent[-1], -1)


def stored(month):
    return {db.session.get(type(unit(db.session, "上海分公司")), k).name: v
            for k, v in orders.orders_for(db.session, month).items()}


def upload(web, data: bytes, month, name="orders.csv"):
    return web.post("/admin/orders/import", {"month": month, "file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


def test_the_admin_fills_in_a_month(login_as):
    last, this, _old = months()
    web = login_as("admin")
    page = web.get("/admin/orders").get_data(as_text=True)
    assert f'<option value="{last}" selected>' in page and f'<option value="{this}">' in page   # opens on last month
    assert 'href="/admin/orders"' in page and 'aria-current="page">订单量' in page             # in the admin's menu
    xh, pd, sh = (unit(db.session, n).id for n in ("上海徐汇店", "上海浦东店", "上海分公司"))
    assert f'name="u{xh}"' in page and "嘉兴食品厂" not in page
    resp = web.post("/admin/orders", {"month": last, f"u{xh}": "12,000", f"u{pd}": "0", f"u{sh}": ""})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/admin/orders?month={last}")
    assert stored(last) == {"上海徐汇店": 12000, "上海浦东店": 0}
    page = web.get(f"/admin/orders?month={last}").get_data(as_text=True)
    assert f'name="u{xh}" value="12000"' in page and "已保存" in page and "合计 12,000 单" in page
    # bad numbers: each shown at its cell, nothing saved, the typed values kept
    resp = web.post("/admin/orders", {"month": last, f"was{xh}": "12000", f"was{pd}": "0", f"u{xh}": "-1",
                                      f"u{pd}": "7", f"u{sh}": "<b>=1+1</b>"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "有 2 个数字不对" in page and "订单量不能是负数" in page
    assert "&lt;b&gt;=1+1&lt;/b&gt;" in page and "<b>=1+1" not in page and f'id="u{sh}-error"' in page
    assert stored(last) == {"上海徐汇店": 12000, "上海浦东店": 0}
    # clearing a figure makes it unknown again; the audit log names each change
    assert web.post("/admin/orders", {"month": last, f"was{xh}": "12000", f"u{xh}": "", f"was{pd}": "0",
                                      f"u{pd}": "0"}).status_code == 303
    assert stored(last) == {"上海浦东店": 0}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == orders.CHANGED)) == 3
    assert "订单量变更" in web.get("/admin/audit").get_data(as_text=True)


def test_a_month_saved_by_someone_else_meanwhile(login_as):
    last, _this, _old = months()
    web = login_as("admin")
    xh = unit(db.session, "上海徐汇店").id
    db.session.add(OrderVolume(unit_id=xh, month=last, orders=100, updated_at=utcnow()))
    db.session.commit()
    resp = web.post("/admin/orders", {"month": last, f"was{xh}": "", f"u{xh}": "200"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "有人修改了这个月的订单量（上海徐汇店）" in page and f'value="100"' in page
    assert stored(last) == {"上海徐汇店": 100}


def test_months_outside_the_picker_and_expired_forms(login_as):
    last, this, old = months()
    web = login_as("admin")
    assert f'<option value="{old}" selected>' in web.get(f"/admin/orders?month={old}").get_data(as_text=True)
    assert f'<option value="{this}" selected>' in web.get(f"/admin/orders?month={this}").get_data(as_text=True)
    for wrong in ("2026-13'%3B--", orders.shift(this, 1), "1999-12", "x"):      # → last month
        assert f'<option value="{last}" selected>' in web.get(f"/admin/orders?month={wrong}").get_data(as_text=True)
    xh = unit(db.session, "上海徐汇店").id
    resp = web.post("/admin/orders", {"month": last, f"u{xh}": "5"}, csrf=False)
    assert resp.status_code == 400 and stored(last) == {}


def test_the_template_is_the_grid_as_csv(login_as):
    last, _this, _old = months()
    web = login_as("admin")
    db.session.add(OrderVolume(unit_id=unit(db.session, "上海徐汇店").id, month=last, orders=12000, updated_at=utcnow()))
    resp = web.get(f"/admin/orders/template.csv?month={last}")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Cache-Control"] == "no-store"
    assert f'filename="orders-{last}.csv"' in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8")
    assert text.startswith("\ufeff月份,单位,订单量\r\n") and f"{last},上海分公司/上海徐汇店,12000\r\n" in text


def test_an_import_is_previewed_then_confirmed(login_as):
    last, this, _old = months()
    web = login_as("admin")
    db.session.add(OrderVolume(unit_id=unit(db.session, "上海徐汇店").id, month=last, orders=11000, updated_at=utcnow()))
    data = f"月份,单位,订单量\n{last},上海分公司/上海徐汇店,12000\n{last},杭州西湖店,9000\n{this},杭州西湖店,\n".encode("gbk")
    resp = upload(web, data, last)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "按 GBK 编码读取" in page
    assert "新增 1 个，修改 1 个，不变 0 个；订单量留空、不改动的 1 行" in page
    assert "11,000" in page and "12,000" in page and "9,000" in page
    assert stored(last) == {"上海徐汇店": 11000}                           # a preview writes nothing
    form = dict(re.findall(r'name="(data|digest|month)" value="([^"]*)"', page))
    resp = web.post("/admin/orders/import/confirm", form)
    assert resp.status_code == 303
    assert stored(last) == {"上海徐汇店": 12000, "杭州西湖店": 9000}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == orders.CHANGED)).all()
    assert sorted((e.detail["unit"], e.detail["old"], e.detail["new"], e.detail["via"]) for e in events) == [
        ("上海分公司/上海徐汇店", 11000, 12000, "import"), ("杭州分公司/杭州西湖店", None, 9000, "import")]
    # confirming the same preview again: the figures changed since (by this import) → a fresh preview
    resp = web.post("/admin/orders/import/confirm", form)
    assert resp.status_code == 409 and "没有要导入的" in resp.get_data(as_text=True)


def test_a_stale_or_forged_confirmation_writes_nothing(login_as):
    last, _this, _old = months()
    web = login_as("admin")
    page = upload(web, f"{last},上海浦东店,500\n".encode(), last).get_data(as_text=True)
    form = dict(re.findall(r'name="(data|digest|month)" value="([^"]*)"', page))
    db.session.add(OrderVolume(unit_id=unit(db.session, "上海浦东店").id, month=last, orders=400, updated_at=utcnow()))
    db.session.commit()
    resp = web.post("/admin/orders/import/confirm", form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "有人修改了订单量" in page and "400" in page and "500" in page
    assert stored(last) == {"上海浦东店": 400}
    bad = web.post("/admin/orders/import/confirm", {**form, "data": "not base64!"})
    assert bad.status_code == 422 and "重新选择文件" in bad.get_data(as_text=True)
    assert web.post("/admin/orders/import/confirm", form, csrf=False).status_code == 400
    assert stored(last) == {"上海浦东店": 400}


def test_a_file_with_bad_lines_is_not_imported_at_all(login_as):
    last, _this, _old = months()
    web = login_as("admin")
    data = (f"{last},上海浦东店,100\n{last},=cmd|' /C calc'!A0,1\n{last},上海静安店,1e9\n"
            f"{last},上海浦东店,100\n{last},<script>alert(1)</script>,5\n").encode()
    resp = upload(web, data, last)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "文件里有 4 行不对，整个文件都没有导入" in page
    for line in (2, 3, 4, 5):
        assert f"第 {line} 行：" in page
    assert "第 1 行：" not in page and "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert stored(last) == {}
    for data, says in ((b"", "文件是空的"), (b"PK\x03\x04" + b"\x00" * 30, "Excel 工作簿"),
                       ("月份,单位,订单量\n".encode(), "没有数据行")):
        resp = upload(web, data, last)
        assert resp.status_code == 422 and says in resp.get_data(as_text=True)
    resp = web.post("/admin/orders/import", {"month": last}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要导入的 CSV 文件" in resp.get_data(as_text=True)


def test_bad_input_is_answered_in_words(login_as):
    last, this, _old = months()
    web = login_as("admin")
    for wrong, says in (("garbage", "“garbage”不是月份"), (orders.shift(this, 1), "还没到，不能填订单量"),
                        ("1900-01", "月份“1900-01”太早了"), ("x" * 3000, "不是月份")):
        page = web.get(f"/admin/orders?month={wrong}").get_data(as_text=True)
        assert says in page and f"下面是 {last} 的订单量" in page and f'<option value="{last}" selected>' in page, wrong[:20]
    assert "下面是" not in web.get("/admin/orders?month=").get_data(as_text=True)
    xh = unit(db.session, "上海徐汇店").id
    for typed, says in (("-5", "不能是负数"), ("很多", "不是订单数"), ("99999999999999999999", "太大"),
                        ("=1+1", "不是订单数"), ("12.5", "须是整数")):
        resp = web.post("/admin/orders", {"month": last, f"u{xh}": typed, f"was{xh}": ""})
        assert resp.status_code == 422 and says in resp.get_data(as_text=True), typed
    for data, says in ((f"{last},上海徐汇店,-5\n".encode(), "第 1 行：订单量不能是负数"),
                       (f"{last},上海徐汇店,=1+1\n".encode(), "第 1 行：“=1+1”不是订单数"),
                       (f"{last},上海徐汇店,十二\n".encode("gbk"), "第 1 行：“十二”不是订单数"),
                       (b"\xef\xbb\xbf", "文件是空的"), (bytes(range(256)) * 4, "编码无法识别")):
        resp = upload(web, data, last)
        assert resp.status_code == 422 and says in resp.get_data(as_text=True), says
    assert stored(last) == {}
    # thousands of bad lines: the first fifty, and how many more
    page = upload(web, (f"{last},上海徐汇店,x\n" * 3000).encode(), last).get_data(as_text=True)
    assert "文件里有 3000 行不对" in page and "第 50 行：" in page and "第 51 行：" not in page
    assert "……还有 2950 行也不对（从第 51 行起）" in page
    # a GBK file from Excel is read as such
    resp = upload(web, f"月份,单位,订单量\n{last},上海徐汇店,12000\n".encode("gbk"), last)
    assert resp.status_code == 200 and "GBK" in resp.get_data(as_text=True)
