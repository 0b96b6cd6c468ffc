"""Excel exports of the lists (SPEC §8, issue 17): the files read back cell by cell with openpyxl —
headers, values, masked phones where the screen masks them, formulas neutralised — and each kind
holding exactly the complaints of its screen; progress, a second run, failure, a lost job, purge."""
import io
import os
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain import exports, privacy, queues, registry, reminders
from domain.errors import InvalidInput
from models.complaint import Complaint
from models.report import ExportJob
from tests.builders import NOW, TZ, act, make_complaint, register, unit, user

H = timedelta(hours=1)
RISKY = '=HYPERLINK("http://x","点这里")'


def export(session, tmp_path, who, kind="register", at=NOW, **params):
    job = exports.create(session, user(session, who), kind, params, at)
    session.commit()
    job = exports.run(session, job.id, tmp_path, clock=lambda: at)
    assert job.status == "done", job.error
    return job, load_workbook(exports.file_path(tmp_path, job)).active


def rows(sheet):
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def numbers(sheet):
    return [r[0] for r in rows(sheet)]


def test_the_register_export_cell_by_cell(session, company, tmp_path):
    c = register(session, customer_name=RISKY, customer_phone="13812345678", customer_email="wang@example.com",
                 extra={"product_name": "+1 五仁月饼"}, content="@SUM(A1) 月饼里有头发\n第二行", severity="serious")
    act(session, "quality", c, "dispatch", unit_id=unit(session, "生产部").id)
    session.commit()
    job, sheet = export(session, tmp_path, "quality")
    assert job.rows_done == job.rows_total == 1 and job.filename == "投诉台账-20261123-1100.xlsx"
    header = [cell.value for cell in sheet[1]]
    assert header == ["编号", "登记时间", "类型", "渠道", "顾客姓名", "电话", "电子邮箱", "商品", "投诉内容", "类别",
                      "严重程度", "阶段", "受理单位", "首问负责人", "责任部门", "结案时间"]
    assert all(cell.font.b for cell in sheet[1])
    values = rows(sheet)[0]
    assert values == [c.number, datetime(2026, 11, 23, 11, 0), "投诉", "到店", RISKY, "13812345678", "wang@example.com",
                      "+1 五仁月饼", "@SUM(A1) 月饼里有头发\n第二行", "异物", "严重", "调查处理中", "上海徐汇店", "陈晓",
                      "生产部", None]
    cells = list(sheet.iter_rows(min_row=2))[0]
    for i in (4, 7, 8):                         # text that Excel would take for a formula: text, quoted
        assert cells[i].data_type == "s" and cells[i].quotePrefix, header[i]
    assert not cells[0].quotePrefix and cells[1].is_date


def test_phones_are_masked_where_the_screen_masks_them(session, company, tmp_path):
    ours = make_complaint(session, "investigating", customer_phone="13800000001", customer_email="a@example.com")
    moved = make_complaint(session, "investigating", clerk="cs1", customer_phone="13800000002",
                           customer_email="bo@example.com")
    act(session, "quality", moved, "reassign", unit_id=unit(session, "销售部").id)     # left 生产部
    session.commit()
    _job, sheet = export(session, tmp_path / "h", "handler2")                       # 生产部
    shown = {r[0]: (r[5], r[6]) for r in rows(sheet)}
    assert shown == {ours.number: ("13800000001", "a@example.com"), moved.number: ("138****0002", "b***@example.com")}
    for c in (ours, moved):   # the rule of the record page
        assert privacy.needs_personal_data(session, user(session, "handler2"), c) == (c is ours)
    # a store clerk: the complaints of their store, which they took down, in full
    _job, clerk = export(session, tmp_path / "r", "receiver")
    assert {r[0]: r[5] for r in rows(clerk)} == {ours.number: "13800000001"}


def _page_walk(session, who, f):
    out, cursor = [], None
    while True:
        page = registry.page(session, user(session, who), f, TZ, cursor)
        out += [r.number for r in page.rows]
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


@pytest.mark.parametrize("who,params", [
    ("quality", {}),
    ("quality", {"sort": "old", "severity": "major"}),
    ("quality", {"q": "王", "stage": "new"}),
    ("receiver", {"from": "2026-11-21", "to": "2026-11-22"}),
    ("sh_head", {"mine": "1"}),
    ("quality", {"q": "13800001", "unit": "x", "from": "2026-13-01"}),        # bad values are left out, as on the page
])
def test_the_register_export_is_the_registers_filtered_list(session, company, tmp_path, who, params):
    for i, (clerk, name, severity) in enumerate([("receiver", "王女士", "major"), ("receiver2", "李先生", "general"),
                                                 ("receiver", "王先生", "general"), ("sh_head", "张女士", "major"),
                                                 ("pd_clerk", "王小姐", "minor")] * 3):
        register(session, clerk, at=NOW - i * 7 * H, customer_name=name, severity=severity,
                 customer_phone=f"138000010{i:02d}")
    session.commit()
    _job, sheet = export(session, tmp_path, who, **params)
    expected = _page_walk(session, who, exports.register_filters(exports.clean_register(params), user(session, who)))
    assert numbers(sheet) == expected and expected


def test_a_queue_export_holds_that_queue_and_only_its_people_may_start_it(session, company, tmp_path):
    fresh = [register(session, at=NOW - i * H) for i in range(3)]
    dispatched = make_complaint(session, "investigating")
    session.commit()
    _job, sheet = export(session, tmp_path, "quality", "queue", queue="dispatch")
    assert numbers(sheet) == [c.number for c in reversed(fresh)]                   # oldest registered first
    assert [cell.value for cell in sheet[1]][-2:] == ["时限", "截止时间"]
    assert rows(sheet)[0][-2] == "分派" and rows(sheet)[0][-1] == datetime(2026, 11, 24, 9, 0)   # 24 h after 09:00
    _job, sheet = export(session, tmp_path, "handler2", "queue", queue="department")
    assert numbers(sheet) == [dispatched.number]
    assert numbers(sheet) == [c.number for c in queues.department(session, user(session, "handler2"))]
    for who, name in [("receiver", "dispatch"), ("handler2", "approve"), ("quality", "nope"), ("manager", "department")]:
        with pytest.raises(InvalidInput):
            exports.create(session, user(session, who), "queue", {"queue": name}, NOW)
    with pytest.raises(InvalidInput):
        exports.create(session, user(session, "quality"), "everything", {}, NOW)


def test_the_overdue_export_is_the_overdue_list(session, company, tmp_path):
    for i in range(4):
        register(session, "receiver" if i % 2 else "receiver2", at=NOW - (30 + i) * H)    # dispatch (24 h) overdue
    make_complaint(session, "investigating", at=NOW - 200 * H)          # later clocks overdue too
    register(session, at=NOW)                                           # not overdue
    session.commit()
    later = NOW + H
    for who in ("quality", "receiver"):
        listed = reminders.overdue_complaints(session, user(session, who), later, limit=1000)
        _job, sheet = export(session, tmp_path, who, "overdue", at=later)
        assert numbers(sheet) == [c.number for c, _clock in listed] and listed
        assert [(r[-2], r[-1]) for r in rows(sheet)] == [
            (exports.CLOCK_LABELS[k.kind], k.deadline.astimezone(TZ).replace(tzinfo=None)) for _c, k in listed]


def test_progress_is_written_as_the_rows_stream_and_a_second_run_does_nothing(session, company, tmp_path, clean_database):
    for i in range(7):
        register(session, at=NOW - i * H)
    session.commit()
    job = exports.create(session, user(session, "quality"), "register", {}, NOW)
    session.commit()
    seen = []

    def beat(done):          # what the page would read meanwhile, on a connection of its own
        with Session(session.get_bind()) as other:
            row = other.get(ExportJob, job.id)
            seen.append((done, row.status, row.rows_done, row.rows_total))
    done = exports.run(session, job.id, tmp_path, clock=lambda: NOW, beat=beat, every=2)
    assert seen == [(0, "running", 0, None), (2, "running", 2, 7), (4, "running", 4, 7), (6, "running", 6, 7)]
    assert (done.status, done.rows_done, done.rows_total, done.finished_at) == ("done", 7, 7, NOW)
    assert exports.percent(done) == 100 and exports.file_path(tmp_path, done).is_file()
    assert [p.name for p in tmp_path.iterdir()] == [f"{done.file_key}.xlsx"]        # no part, no temporary files
    again = exports.run(session, job.id, tmp_path, clock=lambda: NOW + H)
    assert again.file_key == done.file_key and again.finished_at == NOW and len(list(tmp_path.iterdir())) == 1


def test_a_failing_export_is_failed_with_no_file_left(session, company, tmp_path):
    job = exports.create(session, user(session, "quality"), "queue", {"queue": "dispatch"}, NOW)
    job.kind = "gone"                  # a kind of export that no longer exists
    session.commit()
    with pytest.raises(KeyError):
        exports.run(session, job.id, tmp_path, clock=lambda: NOW)
    session.expire_all()
    job = session.get(ExportJob, job.id)
    assert (job.status, job.error, job.file_key) == ("failed", "KeyError", None)
    assert list(tmp_path.iterdir()) == []


def test_a_running_job_without_a_sign_of_life_is_lost(session, company):
    job = exports.create(session, user(session, "quality"), "overdue", {}, NOW)
    assert exports.shown_status(job, NOW + 10 * timedelta(minutes=1)) == "queued"     # other exports before it
    assert exports.shown_status(job, NOW + 31 * timedelta(minutes=1)) == "lost"       # no worker took it
    job.status, job.started_at = "running", NOW
    assert exports.shown_status(job, NOW + 4 * timedelta(minutes=1)) == "running"
    assert exports.shown_status(job, NOW + 6 * timedelta(minutes=1)) == "lost"
    assert exports.shown_status(job, NOW + 6 * timedelta(minutes=1), beat=NOW + 5 * timedelta(minutes=1)) == "running"
    retry = exports.again(session, user(session, "quality"), job, NOW + H)
    assert (retry.kind, retry.params, retry.status) == ("overdue", {}, "queued") and retry.id != job.id


def test_only_the_owner_finds_an_export(session, company):
    job = exports.create(session, user(session, "quality"), "register", {"q": "王", "junk": "x"}, NOW)
    assert job.params == {"q": "王"}
    assert exports.owned(session, user(session, "quality"), job.id) is job
    assert exports.owned(session, user(session, "manager"), job.id) is None


def test_files_are_purged_after_a_day(session, company, tmp_path):
    register(session)
    session.commit()
    old, _sheet = export(session, tmp_path, "quality", at=NOW - 2 * exports.KEEP)
    new, _sheet = export(session, tmp_path, "quality", at=NOW)
    old_path, new_path = exports.file_path(tmp_path, old), exports.file_path(tmp_path, new)
    stamp = (NOW - 2 * exports.KEEP).timestamp()
    os.utime(old_path, (stamp, stamp))
    leftover = tmp_path / ".abc.part.xlsx"
    leftover.write_bytes(b"half")
    os.utime(leftover, (stamp, stamp))
    assert exports.purge(session, tmp_path, NOW) == 2
    session.commit()
    session.expire_all()
    assert not old_path.exists() and new_path.exists() and not leftover.exists()
    assert session.get(ExportJob, old.id).file_key is None and session.get(ExportJob, new.id).file_key == new.file_key
    assert exports.shown_status(session.get(ExportJob, old.id), NOW) == "expired"


def test_an_export_of_a_phone_search_is_logged_as_the_list_logs_it(session, company):
    from domain import audit
    from models.audit import AuditEvent
    job = exports.create(session, user(session, "handler2"), "register", {"q": "1380000"}, NOW, ip="10.0.0.9")
    exports.create(session, user(session, "quality"), "register", {"q": "1380000"}, NOW)    # sees every phone: no entry
    exports.create(session, user(session, "handler2"), "register", {"q": "王"}, NOW)         # not a phone
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.kind == audit.PHONE_SEARCHED)).all()
    assert [(e.actor_id, e.ip, e.detail) for e in events] == [(user(session, "handler2").id, "10.0.0.9", {"export": job.id})]


def test_the_monthly_report_as_titled_tables(session, company, tmp_path):
    monthly = pytest.importorskip("domain.monthly")
    for i, severity in enumerate(["serious", "serious", "general"]):
        register(session, at=NOW - i * H, severity=severity, channel="phone" if i else "walk_in")
    register(session, at=NOW - 40 * 24 * H)                          # October: not in November's report
    session.commit()
    job, sheet = export(session, tmp_path, "quality", "monthly", month="2026-11")
    assert job.filename.startswith("月度客诉报告2026-11-") and job.rows_total == job.rows_done
    table = {r[0].value: [c.value for c in r[1:]] for r in sheet.iter_rows() if r[0].value}
    assert (sheet["A1"].value, sheet["B1"].value, sheet["A1"].font.b) == ("月度客诉报告", "2026-11", True)
    figures = monthly.figures(session, user(session, "quality"), "2026-11", now=NOW)
    assert table["受理投诉"][0] == figures["total"] == 3 and table["已结案"][0] == 0
    assert table["严重"][0] == 2 and table["一般"][0] == 1 and table["电话"][0] == 2 and table["到店"][0] == 1
    assert table["上海徐汇店"][:2] == ["上海分公司", 3] and table["异物"][0] == 3     # category row: count first
    assert [c.value for c in sheet["A"] if c.value and c.font.b][:4] == ["月度客诉报告", "概况", "项目", "频次×紧急程度"]
    for who, params in [("receiver", {"month": "2026-11"}), ("quality", {"month": "2026-13"}), ("quality", {})]:
        with pytest.raises(InvalidInput):
            exports.create(session, user(session, who), "monthly", params, NOW)
    _job, head = export(session, tmp_path / "head", "sh_head", "monthly", month="2026-11")   # a branch head: their units
    assert {r[0].value: r[1].value for r in head.iter_rows() if r[0].value}["受理投诉"] == 3


def test_an_export_whose_owner_lost_the_right_meanwhile_fails(session, company, tmp_path):
    from models.user import UserRole
    job = exports.create(session, user(session, "quality"), "queue", {"queue": "dispatch"}, NOW)
    session.execute(UserRole.__table__.delete().where(UserRole.user_id == user(session, "quality").id,
                                                      UserRole.role == "quality"))
    session.commit()
    session.expire_all()
    with pytest.raises(PermissionError):
        exports.run(session, job.id, tmp_path, clock=lambda: NOW)
    session.expire_all()
    assert session.get(ExportJob, job.id).status == "failed" and list(tmp_path.iterdir()) == []
