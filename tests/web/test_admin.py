from sqlalchemy import func, select

from models import db
from models.org import OrgUnit
from models.user import User
from tests.conftest import Web


def unit_id(name):
    return db.session.scalar(select(OrgUnit.id).where(OrgUnit.name == name))


def user_by(username):
    return db.session.scalar(select(User).where(User.username == username))


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


NEW_USER = {"username": "li.na", "display_name": "李娜", "roles": ["receiver"], "locale": "zh_CN",
            "password": "Store2026pw"}


def test_admin_creates_a_user_who_must_change_password(login_as, app):
    web = login_as("admin")
    resp = web.post("/admin/users/new", {**NEW_USER, "org_unit_id": unit_id("上海浦东店")}, htmx=True)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].startswith("/admin/users/")
    u = user_by("li.na")
    assert u.roles == {"receiver"} and u.org_unit.name == "上海浦东店" and u.must_change_password
    other = Web(app.test_client())
    assert other.login("li.na", "Store2026pw").headers["Location"] == "/account/password"


def test_duplicate_username_gets_a_message_and_nothing_changes(login_as):
    web = login_as("admin")
    before = count(User)
    resp = web.post("/admin/users/new", {**NEW_USER, "username": "receiver",
                                         "org_unit_id": unit_id("上海浦东店")}, htmx=True)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "已被使用" in body and 'id="user-new"' in body and "<html" not in body  # just the fragment
    assert count(User) == before


def test_html_in_a_name_is_shown_escaped(login_as):
    web = login_as("admin")
    web.post("/admin/users/new", {**NEW_USER, "display_name": "<script>alert(1)</script>",
                                  "org_unit_id": unit_id("上海浦东店")})
    page = web.get("/admin/users?q=li.na").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_overlong_and_missing_fields_are_refused(login_as):
    web = login_as("admin")
    before = count(User)
    resp = web.post("/admin/users/new", {**NEW_USER, "display_name": "名" * 10_000, "roles": [],
                                         "org_unit_id": unit_id("上海浦东店")})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "姓名最多 60 个字。" in body     # the form says what the domain says
    resp = web.post("/admin/users/new", {**NEW_USER, "roles": [], "org_unit_id": 0})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and ("请选择所属单位" in body or "请至少选择一个角色" in body)
    assert count(User) == before


def test_weak_password_is_refused(login_as):
    web = login_as("admin")
    resp = web.post("/admin/users/new", {**NEW_USER, "password": "12345678", "org_unit_id": unit_id("上海浦东店")})
    assert resp.status_code == 422 and "字母和数字" in resp.get_data(as_text=True)


def test_edit_roles_and_head_flag(login_as):
    web = login_as("admin")
    u = user_by("pd_clerk")
    resp = web.post(f"/admin/users/{u.id}/edit", {"display_name": "黄蕾", "org_unit_id": u.org_unit_id,
                                                   "roles": ["receiver", "handler"], "is_head": "y",
                                                   "locale": "en"})
    assert resp.status_code == 303
    db.session.expire_all()
    u = user_by("pd_clerk")
    assert u.roles == {"receiver", "handler"} and u.is_head and u.locale == "en"


def test_reset_password_ends_the_users_sessions(login_as, app):
    clerk = Web(app.test_client())
    assert clerk.login("xs_clerk").status_code == 303
    assert clerk.get("/receiver/").status_code == 200
    web = login_as("admin")
    uid = user_by("xs_clerk").id
    assert web.post(f"/admin/users/{uid}/reset-password", {"reset-new_password": "Temp2026pass"}).status_code == 303
    assert clerk.get("/receiver/").status_code == 302  # logged out everywhere
    assert clerk.login("xs_clerk", "Temp2026pass").headers["Location"] == "/account/password"


def test_deactivate_and_unlock(login_as, app):
    web = login_as("admin")
    u = user_by("hx_clerk")
    assert web.post(f"/admin/users/{u.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert user_by("hx_clerk").active is False
    resp = web.post(f"/admin/users/{user_by('admin').id}/deactivate", htmx=True)
    assert resp.status_code == 422 and "不能停用自己" in resp.get_data(as_text=True)
    other = Web(app.test_client())
    for _ in range(5):
        other.login("bj_clerk", "wrong-pass1")
    db.session.expire_all()
    assert user_by("bj_clerk").locked_until is not None
    assert web.post(f"/admin/users/{user_by('bj_clerk').id}/unlock").status_code == 303
    assert other.login("bj_clerk").status_code == 303


def test_user_search_is_an_htmx_fragment(login_as):
    web = login_as("admin")
    resp = web.get("/admin/users?q=张伟", htmx=True)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and body.lstrip().startswith('<section id="user-rows"')
    assert "张伟" in body and "陈晓" not in body
    assert "HX-Request" in resp.headers["Vary"]
    empty = web.get("/admin/users?q=nobody-at-all", htmx=True).get_data(as_text=True)
    assert "没有符合条件的用户" in empty


def test_units_add_rename_move(login_as):
    web = login_as("admin")
    resp = web.post("/admin/units/add", {"add-name": "上海长宁店", "add-kind": "store",
                                         "add-parent_id": unit_id("上海分公司")})
    assert resp.status_code == 303
    new = unit_id("上海长宁店")
    assert new
    resp = web.post("/admin/units/add", {"add-name": "上海长宁店", "add-kind": "store",
                                         "add-parent_id": unit_id("上海分公司")}, htmx=True)
    assert resp.status_code == 422 and "已有名为" in resp.get_data(as_text=True)
    resp = web.post("/admin/units/add", {"add-name": "错班组", "add-kind": "team",
                                         "add-parent_id": unit_id("上海分公司")}, htmx=True)
    assert resp.status_code == 422 and "不能放在" in resp.get_data(as_text=True)
    resp = web.post(f"/admin/units/{new}/rename", {"rename-name": "店" * 61}, htmx=True)
    assert resp.status_code == 422 and "单位名称最多 60 个字。" in resp.get_data(as_text=True)
    assert web.post(f"/admin/units/{new}/rename", {"rename-name": "上海长宁旗舰店"}).status_code == 303
    assert web.post(f"/admin/units/{new}/move", {"move-parent_id": unit_id("南京分公司")}).status_code == 303
    db.session.expire_all()
    moved = db.session.get(OrgUnit, new)
    assert moved.name == "上海长宁旗舰店" and moved.parent.name == "南京分公司"
    sh = unit_id("上海分公司")
    resp = web.post(f"/admin/units/{sh}/move", {"move-parent_id": unit_id("上海徐汇店")}, htmx=True)
    assert resp.status_code == 422


def test_unit_with_users_cannot_be_deleted_or_deactivated(login_as):
    web = login_as("admin")
    store = unit_id("上海徐汇店")
    resp = web.post(f"/admin/units/{store}/delete", htmx=True)
    assert resp.status_code == 422 and "不能删除" in resp.get_data(as_text=True)
    resp = web.post(f"/admin/units/{store}/deactivate", htmx=True)
    assert resp.status_code == 422 and "在职用户" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrgUnit, store).active


def test_unused_unit_can_be_deleted(login_as):
    web = login_as("admin")
    web.post("/admin/units/add", {"add-name": "建错的班组", "add-kind": "team", "add-parent_id": unit_id("昆山食品厂")})
    uid = unit_id("建错的班组")
    page = web.get(f"/admin/units/{uid}").get_data(as_text=True)
    assert "可以彻底删除" in page
    assert web.post(f"/admin/units/{uid}/delete").status_code == 303
    assert unit_id("建错的班组") is None


def test_audit_log_lists_logins(login_as):
    web = login_as("admin")
    page = web.get("/admin/audit").get_data(as_text=True)
    assert "login" in page and "admin" in page
    assert "demo12345" not in page
    assert '<span class="tag" title="login">登录</span>' in page          # the kind in words, the key in its title
    assert '<option value="login">登录</option>' in page
    from domain import audit
    kinds = {v for k, v in vars(audit).items() if k.isupper() and isinstance(v, str)}
    assert kinds <= audit.KIND_LABELS.keys()                             # every kind has its words


def test_out_of_range_numbers_are_not_database_errors(login_as):
    web = login_as("admin")
    huge = "99999999999999999999"
    assert web.get(f"/admin/users/{huge}").status_code == 404
    assert web.get(f"/admin/units/{huge}").status_code == 404
    assert web.get("/admin/units/0").status_code == 404
    assert web.get(f"/admin/users?page={huge}").status_code == 200
    assert web.get("/admin/users?page=-3").status_code == 200
    assert web.get(f"/admin/audit?before={huge}").status_code == 200
    assert web.get("/admin/audit?before=abc").status_code == 200
    before = count(User)
    resp = web.post("/admin/users/new", {**NEW_USER, "org_unit_id": huge})
    assert resp.status_code == 422 and "请选择所属单位" in resp.get_data(as_text=True)
    resp = web.post("/admin/units/add", {"add-name": "新店", "add-kind": "store", "add-parent_id": huge})
    assert resp.status_code == 422
    assert count(User) == before


def test_nul_bytes_get_a_message_not_a_database_error(login_as):
    web = login_as("admin")
    before = count(User)
    resp = web.post("/admin/users/new", {**NEW_USER, "display_name": "李\x00娜", "org_unit_id": unit_id("上海浦东店")})
    assert resp.status_code == 400 and "控制字符" in resp.get_data(as_text=True)
    assert count(User) == before
    assert web.get("/admin/users?q=%00").status_code == 400


def test_invisible_names_and_unknown_roles_are_refused_in_chinese(login_as):
    web = login_as("admin")
    store = unit_id("上海浦东店")
    resp = web.post(f"/admin/units/{store}/rename", {"rename-name": "\u200b\u3000"}, htmx=True)
    assert resp.status_code == 422 and "请填写单位名称" in resp.get_data(as_text=True)
    resp = web.post("/admin/users/new", {**NEW_USER, "roles": ["superuser"], "org_unit_id": store})
    assert resp.status_code == 422 and "选项无效" in resp.get_data(as_text=True)
    long_query = web.get("/admin/users?q=" + "张" * 10_000)
    assert long_query.status_code == 200 and "没有符合条件的用户" in long_query.get_data(as_text=True)


def test_admin_imports_a_holiday_year_and_sets_a_company_day(login_as):
    import io
    from datetime import date

    from models.calendar import CalendarDay
    web = login_as("admin")
    home = web.get("/admin/").get_data(as_text=True)
    assert "年的节假日安排还没有导入" in home and "2027" in home
    page = web.get("/admin/calendar").get_data(as_text=True)
    assert "未导入" in page
    csv_bytes = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-20,workday,调休上班\n".encode()
    resp = web.post("/admin/calendar/import", {"file": (io.BytesIO(csv_bytes), "2027.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 303
    assert db.session.get(CalendarDay, date(2027, 2, 20)).workday is True
    home = web.get("/admin/").get_data(as_text=True)
    assert "还没有导入" not in home or "2027" not in home.split("还没有导入")[0][-40:]
    resp = web.post("/admin/calendar/import", {"file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 422 and "UTF-8" in resp.get_data(as_text=True)
    resp = web.post("/admin/calendar/import", {"file": (io.BytesIO(b"2027-01-01,vacation\n"), "x.csv")},
                    content_type="multipart/form-data")
    assert resp.status_code == 422 and "第 1 行" in resp.get_data(as_text=True)
    assert web.post("/admin/calendar/override", {"day": "2026-12-31", "kind": "holiday", "name": "<b>年会</b>"}).status_code == 303
    assert "&lt;b&gt;年会&lt;/b&gt;" in web.get("/admin/calendar").get_data(as_text=True)
    assert web.post("/admin/calendar/override", {"day": "31/12", "kind": "holiday"}).status_code == 422
