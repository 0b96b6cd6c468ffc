"""The monthly complaint meeting over HTTP (issue 17): quality opens November's meeting from the list,
sets date and attendees on the page (bad input answered in Chinese, nothing lost), concludes, adds an
action, issues; an attendee signs with one tap from their home page; the notice leads to the page;
the owner reports the action done on its page and quality verifies it; the A4 minutes; CSRF."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import db
from models.complaint import CorrectiveAction, Notification
from models.meeting import Meeting
from tests.builders import as_user, unit, user
from tests.domain.test_monthly import november


@pytest.fixture
def made(demo):
    november(db.session)
    db.session.commit()


def page_of(web, meeting_id):
    return web.get(f"/meetings/{meeting_id}").get_data(as_text=True)


def test_quality_runs_the_meeting_and_an_attendee_signs_from_home(made, login_as, app):
    q = login_as("quality")
    body = q.get("/meetings/").get_data(as_text=True)
    assert "发起专题会" in body and "还没有专题会" in body
    resp = q.post("/meetings/open", {"month": "2026-11"})
    assert resp.status_code == 303
    meeting = db.session.scalar(select(Meeting).where(Meeting.month == "2026-11"))
    assert meeting is not None and meeting.items
    assert q.post("/meetings/open", {"month": "2026-11"}).status_code == 303           # opened once
    assert q.post("/meetings/open", {"month": "1999-01"}).status_code == 422

    # Bad input: no attendees → the message, and the typed place kept.
    resp = q.post(f"/meetings/{meeting.id}/details", {"version": meeting.version, "title": "十一月专题会",
                                                      "held_on": "2026-12-03", "place": "三楼<b>会议室</b>"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "请至少选择一位参会人" in body
    assert "三楼&lt;b&gt;会议室&lt;/b&gt;" in body
    manager, handler2 = user(db.session, "manager"), user(db.session, "handler2")
    resp = q.post(f"/meetings/{meeting.id}/details", {"version": meeting.version, "title": "十一月专题会",
                                                      "held_on": "2026-12-03", "place": "三楼",
                                                      "attendees": [manager.id, handler2.id]})
    assert resp.status_code == 303
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    for item in meeting.items:
        assert q.post(f"/meetings/{meeting.id}/conclude", {"version": meeting.version, "item_id": item.id,
                                                           "conclusion": "原因明确，按措施整改"}).status_code == 303
        db.session.expire_all()
        meeting = db.session.get(Meeting, meeting.id)
    first = meeting.items[0]
    resp = q.post(f"/meetings/{meeting.id}/add_action", {"version": meeting.version, "item_id": first.id,
                                                         "kind": "corrective", "text": "更换筛网",
                                                         "owner_user_id": handler2.id, "due": "2026-11-01"})
    assert resp.status_code == 422 and "完成期限不能早于今天" in resp.get_data(as_text=True)
    resp = q.post(f"/meetings/{meeting.id}/add_action", {"version": meeting.version, "item_id": first.id,
                                                         "kind": "corrective", "text": "更换筛网",
                                                         "owner_user_id": handler2.id, "due": "2099-01-01"})
    assert resp.status_code == 422                                          # more than three years away
    resp = q.post(f"/meetings/{meeting.id}/add_action", {"version": meeting.version, "item_id": first.id,
                                                         "kind": "corrective", "text": "更换筛网",
                                                         "owner_user_id": handler2.id,
                                                         "due": (date.today() + timedelta(days=10)).isoformat()})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert q.post(f"/meetings/{meeting.id}/issue", {"version": meeting.version}).status_code == 303
    assert q.post(f"/meetings/{meeting.id}/issue", {"version": meeting.version + 1}).status_code == 422  # issued

    # The manager: the notice leads to the meeting; one tap on the home page signs.
    m = as_user(app, "manager")
    notices = m.get("/complaints/notices").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}"' in notices
    home = m.get("/manager/").get_data(as_text=True)
    assert "签字确认" in home and f"/meetings/{meeting.id}/sign" in home
    assert m.post(f"/meetings/{meeting.id}/sign", {"part": "0"}, csrf=False).status_code == 400   # CSRF
    resp = m.post(f"/meetings/{meeting.id}/sign", {"part": "0", "back": "home"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/manager/")
    assert f"/meetings/{meeting.id}/sign" not in m.get("/manager/").get_data(as_text=True)
    assert "已签字" in page_of(q, meeting.id)

    # The owner reports the action done; quality verifies it.
    h = as_user(app, "handler2")
    a = db.session.scalar(select(CorrectiveAction).where(CorrectiveAction.meeting_item_id.is_not(None)))
    assert "更换筛网" in h.get("/handler/").get_data(as_text=True)
    before = q.get(f"/meetings/actions/{a.id}").get_data(as_text=True)
    assert 'value="waived"' in before and 'value="effective"' not in before      # not reported done: waive only
    resp = h.post(f"/meetings/actions/{a.id}/done", {"note": ""})
    assert resp.status_code == 422 and "请写明做了什么" in resp.get_data(as_text=True)
    assert h.post(f"/meetings/actions/{a.id}/done", {"note": "已更换并验收"}).status_code == 303
    assert 'value="effective"' in q.get(f"/meetings/actions/{a.id}").get_data(as_text=True)
    assert q.post(f"/meetings/actions/{a.id}/verify", {"verdict": "effective"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(CorrectiveAction, a.id).verdict == "effective"
    assert h.post(f"/meetings/actions/{a.id}/done", {"note": "再来"}).status_code == 422
    assert h.post(f"/meetings/{meeting.id}/sign", {"part": "0"}).status_code == 303

    # Signed by all: the A4 minutes show the signatures; the page no longer offers editing.
    minutes = q.get(f"/meetings/{meeting.id}/minutes").get_data(as_text=True)
    assert "会议纪要" in minutes and minutes.count("已签字确认") == 2 and "草稿" not in minutes
    body = page_of(q, meeting.id)
    assert "纪要已全体签字" in body and "保存结论" not in body and "添加补充纪要" in body
    assert db.session.scalar(select(Notification.id).where(Notification.kind == "meeting:sign")) is not None


def test_out_of_scope_meetings_and_actions_are_not_found(made, login_as, app):
    q = login_as("quality")
    q.post("/meetings/open", {"month": "2026-11"})
    meeting = db.session.scalar(select(Meeting))
    r = as_user(app, "receiver")
    assert r.get(f"/meetings/{meeting.id}").status_code == 404
    assert r.get(f"/meetings/{meeting.id}/minutes").status_code == 404
    assert r.post(f"/meetings/{meeting.id}/sign", {"part": "0"}).status_code == 404
    assert r.get("/meetings/999999").status_code == 404
    body = r.get("/meetings/").get_data(as_text=True)
    assert meeting.title not in body and "品管发起并邀请您参会后" in body
    assert unit(db.session, "生产部") is not None
