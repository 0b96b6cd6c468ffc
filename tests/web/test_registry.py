"""The registry list: scope per role, filters, search, keyset pages, capped count."""
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain import intake, registry
from models import db
from models.complaint import Category, Complaint
from models.user import User

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)
NUMBER = re.compile(r'<strong class="mono">(TS-\d{6}-\d{4})</strong>')


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def register(username, i, **kw):
    cat = kw.pop("category", "异物")
    data = dict(customer_name=kw.pop("name", f"顾客{i}"), customer_phone=kw.pop("phone", f"139{i:08d}"),
                content=f"第 {i} 条投诉", category_id=db.session.scalar(select(Category.id).where(Category.name == cat)),
                severity=kw.pop("severity", "general"))
    data.update(kw)
    return intake.register(db.session, user(username), intake.IntakeData(**data),
                           now=START + timedelta(hours=i), tz=TZ).complaint


def numbers(resp):
    """Complaint numbers in the list rows (not in the search box)."""
    body = resp.get_data(as_text=True)
    return NUMBER.findall(body[body.index('id="complaint-rows"'):])


@pytest.fixture
def filled(demo):
    made = {}
    for i in range(30):
        made[i] = register("receiver", i)                         # 上海徐汇店
    made[100] = register("pd_clerk", 100, name="李先生", severity="major", safety=True, category="服务态度",
                         extra={"product_name": "蛋黄酥礼盒"})  # 上海浦东店
    made[101] = register("receiver2", 101, phone="13600001111")   # 杭州西湖店
    db.session.commit()
    return made


def test_each_role_sees_its_scope(filled, login_as, app):
    from tests.conftest import Web
    web = login_as("receiver")
    seen = set(numbers(web.get("/complaints/")))
    assert filled[29].number in seen and filled[100].number not in seen and filled[101].number not in seen
    head = Web(app.test_client())
    head.login("sh_head")   # 上海分公司 head: both Shanghai stores, not Hangzhou
    seen = set(numbers(head.get("/complaints/?q=李")))
    assert seen == {filled[100].number}
    assert filled[101].number not in head.get("/complaints/?q=136").get_data(as_text=True)
    quality = Web(app.test_client())
    quality.login("quality")
    assert filled[101].number in quality.get("/complaints/?q=13600001111").get_data(as_text=True)
    admin = Web(app.test_client())
    admin.login("admin")
    assert admin.get("/complaints/").status_code == 403


def test_keyset_pages_cover_everything_once(filled, login_as):
    web = login_as("receiver")
    first = web.get("/complaints/")
    page1 = numbers(first)
    assert len(page1) == registry.PAGE_SIZE and page1[0] == filled[29].number  # newest first
    assert "/complaints/count" in first.get_data(as_text=True)  # the count comes separately
    assert "共 30 条" in web.get("/complaints/count", htmx=True).get_data(as_text=True)
    nxt = re.search(r'href="(/complaints/\?after=[^"]+)"', first.get_data(as_text=True)).group(1)
    page2 = numbers(web.get(nxt.replace("&amp;", "&")))
    assert len(page2) == 5 and not set(page1) & set(page2)
    assert set(page1) | set(page2) == {filled[i].number for i in range(30)}
    oldest = numbers(web.get("/complaints/?sort=old"))
    assert oldest[0] == filled[0].number
    # A forged cursor is ignored, not an error.
    assert web.get("/complaints/?after=99999999999999999999.x").status_code == 200


def test_filters_and_search(filled, login_as):
    web = login_as("quality")
    by_number = numbers(web.get(f"/complaints/?q={filled[7].number}"))
    assert by_number == [filled[7].number]
    assert numbers(web.get(f"/complaints/?q={filled[7].number.lower()}")) == [filled[7].number]
    assert numbers(web.get("/complaints/?q=13900000007")) == [filled[7].number]
    assert numbers(web.get("/complaints/?q=蛋黄酥")) == [filled[100].number]
    assert numbers(web.get("/complaints/?severity=major")) == [filled[100].number]
    parent = db.session.scalar(select(Category.id).where(Category.name == "服务质量"))
    assert numbers(web.get(f"/complaints/?category={parent}")) == [filled[100].number]
    store = filled[101].receiving_unit_id
    assert numbers(web.get(f"/complaints/?unit={store}")) == [filled[101].number]
    day = (START + timedelta(hours=3)).astimezone(TZ).date()
    found = set(numbers(web.get(f"/complaints/?from={day}&to={day}")))
    expected = {c.number for c in filled.values() if c.created_at.astimezone(TZ).date() == day}
    assert found == expected and found
    assert numbers(web.get("/complaints/?stage=closed")) == []
    bad = web.get("/complaints/?from=2026-99-01&stage=nonsense&category=abc&unit=-1")
    assert bad.status_code == 200 and "日期格式不对" in bad.get_data(as_text=True)
    # Active search answers with the rows fragment only.
    part = web.get("/complaints/?q=李", htmx=True).get_data(as_text=True)
    assert part.lstrip().startswith('<section id="complaint-rows"') and "<html" not in part


def test_common_name_prefixes_take_the_newest_first_path(filled, login_as, monkeypatch):
    monkeypatch.setattr(registry, "DENSE", 5)   # "顾客" matches 30 > 5: the dense path on SQLite
    web = login_as("quality")
    found = numbers(web.get("/complaints/?q=顾客"))
    assert found == [filled[101].number] + [filled[i].number for i in range(29, 5, -1)]


def test_like_wildcards_are_taken_literally(filled, login_as):
    web = login_as("quality")
    assert numbers(web.get("/complaints/?q=%25")) == []
    assert numbers(web.get("/complaints/?q=_")) == []


def test_count_is_capped(filled, login_as, monkeypatch):
    monkeypatch.setattr(registry, "COUNT_CAP", 10)
    web = login_as("receiver")
    assert "超过 10 条" in web.get("/complaints/count").get_data(as_text=True)
    assert "共 1 条" in web.get(f"/complaints/count?q={filled[3].number}").get_data(as_text=True)


def test_my_complaints_and_an_empty_registry(demo, login_as):
    web = login_as("receiver")
    page = web.get("/complaints/?mine=1").get_data(as_text=True)
    assert "我受理的投诉" in page and "还没有投诉" in page and "登记投诉" in page


def test_odd_query_parameters_are_ignored_not_errors(filled, login_as):
    web = login_as("quality")
    for query in ("unit=²", "category=①", "_method=POST", "endpoint=x", "_external=1&_anchor=x"):
        resp = web.get(f"/complaints/?{query}")
        assert resp.status_code == 200, query
        assert "_external" not in resp.get_data(as_text=True) and "endpoint=" not in resp.get_data(as_text=True)
        assert web.get(f"/complaints/count?{query}").status_code == 200
    assert web.get("/complaints/?q=a&q=%00").status_code == 400


def test_my_complaints_show_each_ones_stage_and_countdown(login_as):
    clerk = login_as("receiver")
    mine = register("receiver", 1)
    other = register("receiver2", 2)
    db.session.commit()
    body = clerk.get("/complaints/?mine=1").get_data(as_text=True)
    rows = body[body.index('id="complaint-rows"'):]
    assert mine.number in rows and other.number not in rows
    assert "已超时" in rows and "待分派" in rows     # registered in October: its clocks ran out long ago
