"""The minute sweep (SPEC §4.4) on the real database: who gets which level, once and only once,
overlapping sweeps, stopped and paused clocks, and the morning digests."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import reminders, settings
from models import db, utcnow
from models.complaint import Notification
from models.setting import Setting
from models.sla import SlaClock
from tests.domain.test_workflow import NOW, dispatch, do, new_complaint, propose, user

H = timedelta(hours=1)


def clock(c, kind):
    return db.session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == kind))


def sweep(at):
    result = reminders.sweep(db.session, at)
    db.session.commit()
    return result


def who(c, kind, level):
    """Usernames reminded about `c`'s `kind` clock at `level`."""
    k = clock(c, kind)
    rows = db.session.scalars(select(Notification).where(Notification.dedupe_key.like(f"r{k.id}:{level}:%"))).all()
    for n in rows:
        assert n.kind == f"sla:{level}:{kind}" and n.complaint_id == c.id
    names = [db.session.get(type(user("quality")), n.user_id).username for n in rows]
    assert len(names) == len(set(names)), "someone was reminded twice"
    return set(names)


def keyed():
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.dedupe_key.is_not(None)))


def test_each_level_goes_to_its_people_once(demo):
    c = new_complaint()      # generic preset: dispatch within 24 calendar hours
    db.session.commit()
    k = clock(c, "dispatch")
    assert (k.warn_at, k.deadline, k.escalate_at) == (NOW + 18 * H, NOW + 24 * H, NOW + 30 * H)
    assert k.next_alert_at == k.warn_at and k.alert_level == 0

    assert sweep(NOW + H).notices == 0
    sweep(NOW + 18 * H)
    # warn → the current assignee: a new complaint sits with the quality department
    assert who(c, "dispatch", "warn") == {"quality", "quality2"}
    before = keyed()
    assert sweep(NOW + 18 * H + timedelta(seconds=30)).notices == 0 and keyed() == before
    sweep(NOW + 24 * H)
    # due → assignee + their head (quality2 heads 品管部) + the first responder
    assert who(c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    sweep(NOW + 30 * H)
    assert who(c, "dispatch", "escalate") == {"manager", "vp"}
    db.session.refresh(k)
    assert k.alert_level == 3 and k.next_alert_at is None
    before = keyed()
    assert sweep(NOW + 300 * H).clocks >= 0 and who(c, "dispatch", "escalate") == {"manager", "vp"}
    assert who(c, "dispatch", "warn") == {"quality", "quality2"}
    # only other clocks (answer, close …) may have added theirs
    assert keyed() >= before


def test_a_clock_found_late_skips_the_warning_but_not_the_escalation(demo):
    c = new_complaint()
    db.session.commit()
    sweep(NOW + 31 * H)     # Redis was down all night: the first sweep sees everything at once
    assert who(c, "dispatch", "warn") == set()
    assert who(c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    assert who(c, "dispatch", "escalate") == {"manager", "vp"}


def test_the_assignee_follows_the_stage(demo):
    named = new_complaint()
    dispatch(named, investigator="handler2")
    unnamed = new_complaint()
    dispatch(unnamed)
    db.session.commit()
    sweep(NOW + 36 * H + timedelta(minutes=1))   # generic: initial cause 48 h → warn at 36 h
    assert who(named, "initial_cause", "warn") == {"handler2"}
    assert who(unnamed, "initial_cause", "warn") == {"prod_head"}   # the department's head
    sweep(NOW + 48 * H)
    assert who(named, "initial_cause", "due") == {"handler2", "prod_head", "receiver"}
    # the dispatch clock stopped when they were dispatched: never reminded
    assert who(named, "dispatch", "due") == set() and clock(named, "dispatch").stopped_at == NOW


def test_approvals_remind_the_approver(demo):
    c = new_complaint()
    dispatch(c, investigator="handler2")
    propose(c)                  # 68 yuan, general → the head approves
    db.session.commit()
    sweep(NOW + 18 * H)         # generic approval: 24 h
    assert who(c, "approval", "warn") == {"prod_head"}
    major = new_complaint(severity="major")
    dispatch(major, investigator="handler2")
    propose(major)
    db.session.commit()
    sweep(NOW + 24 * H)
    assert who(major, "approval", "due") == {"manager", "vp", "receiver"}


@pytest.mark.parametrize("offset", [0, 1])
def test_overlapping_sweeps_write_each_reminder_once(demo, offset):
    complaints = [new_complaint() for _ in range(12)]
    db.session.commit()
    engine = db.engine
    errors = []
    barrier = threading.Barrier(3)

    def run(at):
        try:
            with Session(engine) as s:
                barrier.wait(10)
                reminders.sweep(s, at)
                s.commit()
        except Exception as err:   # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=run, args=(NOW + 25 * H + timedelta(seconds=offset * i),)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    for c in complaints:
        assert who(c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    # no duplicate rows at all (the unique ledger key would have refused them)
    rows = db.session.execute(select(Notification.user_id, Notification.complaint_id, Notification.kind)
                              .where(Notification.dedupe_key.is_not(None))).all()
    assert len(rows) == len(set(rows))


def test_paused_clocks_send_nothing_and_resume_with_the_time_they_had(demo):
    c = new_complaint()
    db.session.commit()
    k = clock(c, "dispatch")
    deadline = k.deadline
    from domain.workflow import act, command
    act(db.session, user("quality"), c, "pause", command("pause", reason="等顾客发小票照片"), version=c.version, now=NOW + H)
    db.session.commit()
    assert c.paused_at == NOW + H and c.pause_reason == "等顾客发小票照片"
    assert k.paused_at == NOW + H and k.next_alert_at is None
    assert sweep(NOW + 40 * H).notices == 0 or who(c, "dispatch", "due") == set()
    assert who(c, "dispatch", "warn") == set() and who(c, "dispatch", "due") == set()
    act(db.session, user("quality"), c, "resume", version=c.version, now=NOW + 41 * H)
    db.session.commit()
    assert k.deadline == deadline + 40 * H and k.paused_seconds == 40 * 3600 and k.paused_at is None
    assert c.paused_at is None
    assert [e.kind for e in c.events][-2:] == ["pause", "resume"]
    sweep(NOW + 41 * H + timedelta(minutes=1))
    assert who(c, "dispatch", "warn") == set()   # 1 h used of 24: nothing yet
    sweep(NOW + 64 * H)
    assert who(c, "dispatch", "due") == {"quality", "quality2", "receiver"}


def test_a_working_day_clock_paused_over_a_weekend_loses_no_working_time(demo):
    c = new_complaint()        # Monday 11:00: answer within 5 working days → Monday next 11:00
    db.session.commit()
    k = clock(c, "answer")
    deadline = k.deadline
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)      # Fri 17:00 Shanghai
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)      # Mon 09:00 Shanghai
    from domain.workflow import act, command
    act(db.session, user("quality"), c, "pause", command("pause", reason="等检测样品"), version=c.version, now=friday)
    act(db.session, user("quality"), c, "resume", version=c.version, now=monday)
    db.session.commit()
    # Friday 17:00 → 18:00 was the only working time lost: one working hour later
    assert k.deadline == deadline + H


def test_a_stage_change_ends_the_pause(demo):
    c = new_complaint()
    from domain.workflow import act, command
    act(db.session, user("quality"), c, "pause", command("pause", reason="等顾客回电"), version=c.version, now=NOW + H)
    dispatch(c)   # at NOW: the workflow moved on
    assert c.paused_at is None and all(k.paused_at is None for k in db.session.scalars(
        select(SlaClock).where(SlaClock.complaint_id == c.id)))


def test_the_morning_digests_go_once_on_working_days(demo):
    local_0831 = datetime(2026, 11, 24, 0, 31, tzinfo=timezone.utc)   # Tuesday 08:31 Shanghai
    assert reminders.send_digests(db.session, local_0831 - timedelta(minutes=2)) == 0   # 08:29: not yet
    written = reminders.send_digests(db.session, local_0831)
    db.session.commit()
    heads = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "digest:head"))}
    managers = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "digest:manager"))}
    assert user("prod_head").id in heads and user("handler2").id not in heads
    assert managers == {user("manager").id, user("vp").id}
    quality = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "digest:quality"))}
    assert written == len(heads) + len(managers) + len(quality)
    assert reminders.send_digests(db.session, local_0831 + H) == 0
    saturday = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    assert reminders.send_digests(db.session, saturday) == 0
    settings.set_digest_times(db.session, user("admin"), "07:00", "10:15", now=utcnow())
    db.session.commit()
    wednesday_0900 = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
    reminders.send_digests(db.session, wednesday_0900)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "digest:manager", Notification.at == wednesday_0900)) == 0
    assert db.session.get(Setting, "digest_times").value == {"head": "07:00", "manager": "10:15"}


def test_digest_times_are_checked(demo):
    from domain.errors import InvalidInput
    with pytest.raises(InvalidInput):
        settings.set_digest_times(db.session, user("admin"), "25:00", "08:30", now=utcnow())
    assert settings.set_digest_times(db.session, user("admin"), "7：05", "8:30", now=utcnow()) == {"head": "07:05", "manager": "08:30"}


def test_the_empty_sweep_does_nothing(demo):
    new_complaint()
    db.session.commit()
    assert sweep(NOW + H) == reminders.SweepResult(0, 0, 0)


def test_importing_next_years_arrangement_recomputes_estimated_deadlines(demo):
    from zoneinfo import ZoneInfo

    from domain import clocks
    tz = ZoneInfo("Asia/Shanghai")
    # Registered Thursday 2026-12-31 10:00: 5 working days run into 2027, which the package
    # does not cover: estimated on weekends and New Year's Day only, and marked unconfirmed.
    at = datetime(2026, 12, 31, 10, 0, tzinfo=tz).astimezone(timezone.utc)
    from domain import intake
    from models.complaint import Category
    data = intake.IntakeData(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                             category_id=db.session.scalar(select(Category.id).where(Category.name == "异物")),
                             severity="general")
    c = intake.register(db.session, user("receiver"), data, now=at, tz=tz).complaint
    db.session.commit()
    k = clock(c, "answer")
    assert not k.confirmed
    assert k.deadline == datetime(2027, 1, 8, 10, 0, tzinfo=tz)   # Jan 4–7 and the rest of Dec 31… → Fri 8th
    # The State Council's (here: a test) arrangement: Jan 1–3 off, and Monday Jan 4 off too.
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n2027-01-03,holiday,元旦\n" \
           "2027-01-04,holiday,元旦调休\n"
    imported = clocks.import_calendar(db.session, user("admin"), text, at)
    assert (imported.year, imported.days) == (2027, 4) and imported.recomputed >= 1
    db.session.commit()
    assert k.confirmed and k.deadline == datetime(2027, 1, 11, 10, 0, tzinfo=tz)
    assert k.next_alert_at == k.warn_at


def test_admin_edits_to_the_preset_apply_to_new_clocks_only(demo):
    from domain.errors import InvalidInput
    before = new_complaint()
    settings.set_sla_preset(db.session, user("admin"), "bank", now=utcnow())
    settings.set_sla_limits(db.session, user("admin"), {
        **{k: (str(v.amount), v.unit.value) for k, v in __import__("domain.sla", fromlist=["x"]).limits_for("bank").items()},
        "dispatch": ("2", "working_hours")}, now=utcnow())
    db.session.commit()
    after = new_complaint()
    assert clock(before, "dispatch").amount == 24 and clock(before, "dispatch").preset == "generic"
    k = clock(after, "dispatch")
    assert (k.preset, k.amount, k.unit, k.source) == ("bank", 2, "working_hours", "管理员修改")
    assert clock(after, "close").unit == "working_days" and clock(after, "close").amount == 10   # bank: 10 wd
    with pytest.raises(InvalidInput) as err:
        settings.set_sla_limits(db.session, user("admin"), {"dispatch": ("-1", "working_hours"),
                                                            "answer": ("400", "working_days")}, now=utcnow())
    assert {"amount_dispatch", "amount_answer"} <= {p.field for p in err.value.problems}


def test_overdue_counts_per_clock_are_capped_and_skip_paused_clocks(demo):
    cs = [new_complaint() for _ in range(3)]
    from domain.workflow import act, command
    act(db.session, user("quality"), cs[0], "pause", command("pause", reason="等顾客回电"), version=cs[0].version, now=NOW + H)
    db.session.commit()
    counts = reminders.overdue_by_clock(db.session, NOW + 25 * H)
    assert counts["dispatch"] == 2 and counts["first_contact"] == 2 and "answer" not in counts
    assert reminders.overdue_by_clock(db.session, NOW + 25 * H, cap=1)["dispatch"] == 1
    assert reminders.overdue_count(db.session, NOW + 25 * H) == 2


def register_at(at):
    from domain import intake
    from models.complaint import Category
    from tests.domain.test_workflow import TZ
    data = intake.IntakeData(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                             category_id=db.session.scalar(select(Category.id).where(Category.name == "异物")),
                             severity="general")
    return intake.register(db.session, user("receiver"), data, now=at, tz=TZ).complaint


def test_the_quality_head_gets_quality_s_digest_once_on_working_days(demo):
    """Issue 13: only heads with the handler role got a digest; the head of 品管部 (吴芳) had none."""
    from domain import messages
    from tests.domain.test_workflow import TZ
    late = new_complaint()                                      # Mon 11:00: dispatch due Tue 11:00
    today = register_at(datetime(2026, 11, 23, 17, 0, tzinfo=TZ))   # Mon 17:00: dispatch due Tue 17:00
    elsewhere = new_complaint()
    dispatch(elsewhere)                                         # with 生产部 now: not quality's to chase
    db.session.commit()

    def quality_digests():
        return db.session.scalars(select(Notification).where(Notification.kind == "digest:quality")).all()

    national_day = datetime(2026, 10, 1, 1, 0, tzinfo=timezone.utc)     # Thursday 09:00, a holiday
    saturday = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    for day_off in (national_day, saturday):
        reminders.send_digests(db.session, day_off)
    assert quality_digests() == []
    tuesday_noon = datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc)    # 12:00 Shanghai
    reminders.send_digests(db.session, tuesday_noon)
    db.session.commit()
    assert [n.user_id for n in quality_digests()] == [user("quality2").id]   # 李静 is not the head
    assert reminders.send_digests(db.session, tuesday_noon + H) == 0
    assert len(quality_digests()) == 1

    subject, lines, _link = messages._quality_digest(db.session, messages._gettext(), tuesday_noon)
    assert subject == "【客诉日报】品管待办：已超时 1 条，今日到期 1 条"
    assert lines == ["待分派（2 条）：",
                     f"  {late.number} 分派 已超时（截止 2026-11-24 11:00）",
                     f"  {today.number} 分派 今天 17:00 到期"]
    assert elsewhere.number not in "\n".join(lines)


def test_the_import_recomputes_clocks_that_waited_for_the_customer(demo):
    """Issue 13: a deadline moved by a pause kept its estimate, still 未确认, after the import."""
    from zoneinfo import ZoneInfo

    from domain import clocks
    from domain.workflow import act, command
    tz = ZoneInfo("Asia/Shanghai")
    registered = datetime(2026, 12, 31, 10, 0, tzinfo=tz)    # Thursday: 5 working days run into 2027
    paused, resumed = datetime(2027, 1, 5, 10, 0, tzinfo=tz), datetime(2027, 1, 6, 15, 0, tzinfo=tz)

    def resume(c):
        act(db.session, user("quality"), c, "resume", version=c.version, now=resumed)

    def waited(c, then_resume=True):
        act(db.session, user("quality"), c, "pause", command("pause", reason="等顾客寄回样品"), version=c.version, now=paused)
        if then_resume:
            resume(c)
        return c

    done = waited(register_at(registered))                   # paused and resumed before the import
    waiting = waited(register_at(registered), then_resume=False)   # still waiting at the import
    db.session.commit()
    k = clock(done, "answer")
    # Estimated (weekends and New Year's Day): Fri Jan 8 10:00; the 27 working hours left at the
    # pause are given again from Wed 15:00 → Mon Jan 11 15:00.
    assert not k.confirmed and k.deadline == datetime(2027, 1, 11, 15, 0, tzinfo=tz)
    assert not clock(waiting, "answer").confirmed

    assert clocks.import_calendar(db.session, user("admin"), "2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n"
                                  "2027-01-03,holiday,元旦\n2027-01-04,holiday,元旦调休\n", resumed).recomputed >= 2
    db.session.commit()
    # Imported: 5 working days → Mon Jan 11 10:00; the 36 working hours left at the pause (Tue
    # 10:00) given again from Wed 15:00 → Tue Jan 12 15:00, confirmed.
    assert k.confirmed and k.deadline == datetime(2027, 1, 12, 15, 0, tzinfo=tz)
    assert k.next_alert_at == k.warn_at and k.paused_seconds == 29 * 3600
    w = clock(waiting, "answer")
    assert w.paused_at == paused and w.next_alert_at is None and w.deadline == datetime(2027, 1, 11, 10, 0, tzinfo=tz)
    resume(waiting)

    # The same as clocks started on the imported calendar and paused the same way.
    fresh = waited(register_at(registered))
    db.session.commit()

    def times(c):
        return {k.kind: (k.deadline, k.warn_at, k.escalate_at, k.confirmed, k.paused_seconds, k.paused_at,
                         k.next_alert_at)
                for k in db.session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id))}
    expected = times(fresh)
    # The limit gives 45 working hours (Dec 31 8 h, Jan 5–8, Jan 11 1 h): warn after 33¾ h (Thu Jan 7
    # 16:45), escalate 11¼ h after the deadline (Tue Jan 12 12:15), both moved on by the pause.
    assert expected["answer"][:4] == (datetime(2027, 1, 12, 15, 0, tzinfo=tz), datetime(2027, 1, 11, 12, 45, tzinfo=tz),
                                      datetime(2027, 1, 13, 17, 15, tzinfo=tz), True)
    assert times(done) == expected and times(waiting) == expected
