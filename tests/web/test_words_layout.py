"""Issue 15, words and layout: no developer words on any role's pages; urgency and severity in
words of their own; the register's filters behind one button; the ledger's default period; the
confirmation page opened again later; the safety-word hint on the intake form."""
import re
from datetime import date, datetime, timezone

import pytest

from domain import sla
from domain.intake import URGENCY_LABELS
from domain.procedures import cite
from domain.safety import SAFETY_WORDS, safety_words_in
from domain.severity import SEVERITY_LABELS
from domain.workflow import available
from models import db
from tests.builders import act, as_user, category_id, make_complaint, register_on_screen, unit, user

INTERNAL = re.compile(r"\bseed\b|种子|generic|以后还有", re.IGNORECASE)
COMPLAINT_PAGES = ["/complaints/", "/complaints/?mine=1", "/complaints/ledger", "/complaints/overdue", "/notices"]
PAGES = {
    "receiver": ["/receiver/"],
    "handler": ["/handler/"],
    "handler2": ["/handler/"],
    "quality": ["/quality/", "/complaints/store-audit", "/complaints/penalties", "/complaints/half-year"],
    "manager": ["/manager/", "/complaints/store-audit", "/complaints/penalties", "/complaints/half-year"],
    "admin": ["/admin/", "/admin/units", "/admin/units/1", "/admin/users", "/admin/users/1", "/admin/users/new",
              "/admin/categories", "/admin/calendar", "/admin/reminders", "/admin/penalties", "/admin/settings",
              "/admin/audit"],
}


def _sources():
    seen = set()

    def walk(value):
        if isinstance(value, sla.Limit):
            seen.add(value.source)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
    walk(sla.PRESETS)
    walk(sla.INQUIRY)
    return sorted(seen)


def _shown(html: str) -> str:
    """What a person can read: the text and the attributes shown on screen (titles, placeholders,
    labels), not URLs or class names."""
    attrs = re.findall(r'\s(?:title|placeholder|aria-label|alt)="([^"]*)"', html)
    typed = re.findall(r'<input(?![^>]*type="(?:radio|checkbox|hidden)")[^>]*\svalue="([^"]*)"', html)
    return re.sub(r"<[^>]+>", " ", html) + " " + " ".join(attrs + typed)


def test_every_source_reads_as_a_procedure():
    for source in _sources():
        shown = cite(source)
        assert not INTERNAL.search(shown), (source, shown)
        assert "《" in shown or shown.startswith("通用时限："), shown
    # clocks started before: their stored text is read the same way
    assert cite("seed 001 四.2: 销售分公司 5 天") == "《客户投诉管理办法》四.2：销售分公司 5 天"
    assert cite("seed 003: 咨询 24 小时内转办") == "《咨询和投诉处理制度》：咨询 24 小时内转办"
    assert cite("seed 009 新规: 某条") == "公司制度：某条" and cite("") == ""
    assert all(not INTERNAL.search(p["label"]) for p in sla.PRESETS.values())


def test_no_internal_words_on_any_roles_pages(demo, app):
    """Every role's pages, the records at each stage with their clocks, the forms of the steps the
    viewer may take and the printed form: no "seed", "种子", "generic" or promises of later work."""
    complaints = [make_complaint(demo, stage) for stage in ("new", "investigating", "pending_approval", "executing",
                                                            "closed")]
    demo.commit()
    for username, pages in PAGES.items():
        web = as_user(app, username)
        paths = list(pages)
        if username != "admin":
            paths += COMPLAINT_PAGES
            for c in complaints:
                paths += [f"/complaints/{c.id}", f"/complaints/{c.id}/print"]
                paths += [f"/complaints/{c.id}/act/{a.name}" for a in available(demo, user(demo, username), c)]
        for path in paths:
            resp = web.get(path)
            if resp.status_code in (403, 404):       # not this role's page or complaint
                continue
            assert resp.status_code == 200, (username, path, resp.status_code)
            found = INTERNAL.search(_shown(resp.get_data(as_text=True)))
            assert found is None, (username, path, found and found.group(0))
    admin = as_user(app, "admin")
    for preset in sla.PRESETS:                         # each preset's table shows its sources
        assert admin.post("/admin/reminders/preset", {"preset": preset}).status_code in (200, 303)
        page = admin.get("/admin/reminders").get_data(as_text=True)
        assert not INTERNAL.search(_shown(page)), preset
        assert "《" in page or preset == "generic"


def test_the_record_names_the_source_of_each_clock(demo, login_as):
    c = make_complaint(demo, "investigating")
    demo.commit()
    page = login_as("quality").get(f"/complaints/{c.id}").get_data(as_text=True)
    titles = re.findall(r'<li title="([^"]*)"><strong>', page)
    assert titles and all(t.startswith(("《", "通用时限")) for t in titles), titles


def test_urgency_and_severity_have_words_of_their_own(demo, login_as):
    assert not set(URGENCY_LABELS.values()) & set(SEVERITY_LABELS.values())
    c = make_complaint(demo, "new", urgency="medium", severity="general")
    demo.commit()
    page = login_as("quality").get(f"/complaints/{c.id}").get_data(as_text=True)
    facts = page.split('<h2>投诉内容</h2>', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<dt>严重程度</dt><dd id="fact-severity">一般</dd>', facts)
    assert re.search(r'<dt>紧急程度</dt><dd id="fact-urgency">普通</dd>', facts)


def test_the_register_folds_its_filters_behind_one_button_with_their_count(demo, login_as):
    web = login_as("quality")
    page = web.get("/complaints/").get_data(as_text=True)
    fold = re.search(r'<details class="filters-fold">(.*?)</details>', page, re.S)
    assert fold, "the filters fold behind <details>"
    assert re.search(r"<summary[^>]*>筛选", fold.group(1))
    assert all(f'name="{name}"' in fold.group(1) for name in ("stage", "severity", "category", "unit", "from", "to"))
    assert 'name="q"' not in fold.group(1)            # the search box stays in sight
    assert 'id="filter-count" class="count-badge is-zero"' in page
    page = web.get("/complaints/?stage=new&severity=general").get_data(as_text=True)
    assert re.search(r'id="filter-count" class="count-badge">2<', page)
    rows = web.get("/complaints/?stage=new", htmx=True).get_data(as_text=True)     # the filter changed
    assert re.search(r'id="filter-count" class="count-badge" hx-swap-oob="true">1<', rows)
    assert 'id="complaint-rows"' in rows


def test_last_full_month():
    from domain.ledger import last_full_month
    assert last_full_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert last_full_month(date(2026, 1, 31)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_the_ledger_opens_on_the_last_full_month_of_the_company_calendar(demo, login_as, monkeypatch):
    import blueprints.reports.views as views
    # 1 March 00:30 in Shanghai is still 28 February in UTC: the company's month has turned.
    monkeypatch.setattr(views, "utcnow", lambda: datetime(2026, 2, 28, 16, 30, tzinfo=timezone.utc))
    web = login_as("quality")
    page = web.get("/complaints/ledger").get_data(as_text=True)
    assert 'name="from" value="2026-02-01"' in page and 'name="to" value="2026-02-28"' in page
    assert re.search(r'aria-current="true" href="[^"]*from=2026-02-01[^"]*">上个月<', page.replace("&amp;", "&"))
    page = web.get("/complaints/ledger?from=2026-01-10").get_data(as_text=True)    # one end given: to today
    assert 'name="from" value="2026-01-10"' in page and 'name="to" value="2026-03-01"' in page


def test_the_confirmation_page_opened_later_shows_where_the_complaint_is(demo, app, login_as):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    page = clerk.get(f"/receiver/done/{c.id}").get_data(as_text=True)
    assert "已登记。请告诉顾客投诉编号" in page and re.search(r'id="current-stage">[^<]*<span[^>]*>待分派<', page)
    act(db.session, "quality", c, "dispatch", unit_id=unit(db.session, "生产部").id, investigator_id=None)
    db.session.commit()
    page = clerk.get(f"/receiver/done/{c.id}").get_data(as_text=True)
    assert "已登记。请告诉顾客投诉编号" not in page and "品管部会分派" not in page
    assert re.search(r'id="current-stage">[^<]*<span[^>]*>调查处理中<', page)
    assert c.number in page


# --- safety words ---------------------------------------------------------------------------------

def test_safety_words_found_in_what_happened():
    assert safety_words_in("孩子吃饼干时被里面的碎片划破了嘴，已送医") == ["划破", "送医"]
    assert safety_words_in("吃完后食物中毒，还呕吐") == ["食物中毒", "呕吐"]      # not 中毒 again
    assert safety_words_in("月饼很好吃，就是包装压坏了") == [] and safety_words_in(None) == []
    for word in ("受伤", "划破", "割伤", "烫伤", "食物中毒", "腹泻", "呕吐", "异物", "玻璃", "过敏", "住院", "送医", "中毒"):
        assert word in SAFETY_WORDS


def _token(page):
    return re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page).group(1)


def _hint(page):
    return re.search(r'<p class="notice safety-hint" id="safety-hint"[^>]*>.*?</p>', page, re.S).group(0)


def test_the_intake_form_prompts_for_the_safety_box(demo, login_as):
    clerk = login_as("receiver")
    page = clerk.get("/receiver/").get_data(as_text=True)
    hint = _hint(page)
    assert "hidden" in hint.split(">", 1)[0]
    assert f'data-words="{"|".join(SAFETY_WORDS)}"' in hint          # the script's list is the domain's
    form = {"token": _token(page), "customer_name": "", "customer_phone": "13812345678",
            "content": "饼干里有玻璃碴，孩子的嘴被划破了", "category_id": str(category_id(db.session)),
            "severity": "general", "type": "complaint", "channel": "walk_in"}
    resp = clerk.post("/receiver/new", form, htmx=True, content_type="multipart/form-data")
    assert resp.status_code == 422                                    # no name: the form comes back …
    hint = _hint(resp.get_data(as_text=True))
    assert "hidden" not in hint.split(">", 1)[0]                      # … with the hint showing
    assert '<strong class="safety-found">划破、玻璃</strong>' in hint
    resp = clerk.post("/receiver/new", {**form, "safety": "y"}, htmx=True, content_type="multipart/form-data")
    assert "hidden" in _hint(resp.get_data(as_text=True)).split(">", 1)[0]     # ticked: no hint
    # a hint, not a rule: the complaint is registered as the clerk chose
    resp = clerk.post("/receiver/new", {**form, "customer_name": "王女士"}, htmx=True,
                      content_type="multipart/form-data")
    assert resp.status_code == 204


@pytest.mark.parametrize("content", ["包装破了一个角", ""])
def test_no_hint_without_safety_words(demo, login_as, content):
    clerk = login_as("receiver")
    page = clerk.get("/receiver/").get_data(as_text=True)
    form = {"token": _token(page), "customer_name": "", "content": content, "severity": "general"}
    resp = clerk.post("/receiver/new", form, htmx=True, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "hidden" in _hint(resp.get_data(as_text=True)).split(">", 1)[0]


def test_severity_is_named_where_it_shows_and_notices_light_no_tab(login_as, app):
    clerk = login_as("receiver")
    c = register_on_screen(clerk)
    done = clerk.get(f"/receiver/done/{c.id}").get_data(as_text=True)
    assert f"严重程度：{SEVERITY_LABELS[c.severity]}" in done
    record = clerk.get(f"/complaints/{c.id}").get_data(as_text=True)
    head = record[:record.index('id="action-panel"')]
    assert f"严重程度：{SEVERITY_LABELS[c.severity]}" in head        # the header's tag says what it is
    notices = clerk.get("/complaints/notices").get_data(as_text=True)
    nav = notices[notices.index('class="tabs"'):notices.index("</nav>")]
    assert 'aria-current="page"' not in nav
    register = clerk.get("/complaints/").get_data(as_text=True)
    nav = register[register.index('class="tabs"'):register.index("</nav>")]
    assert 'aria-current="page" >' in nav.replace('"page">', '"page" >')
