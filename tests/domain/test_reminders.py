"""The minute sweep (SPEC §4.4) on the real database: who gets which level, once and only once,
overlapping sweeps, stopped and paused clocks, and the morning digests."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import reminders, settings
from models import utcnow
from models.complaint import Notification
from models.setting import Setting
from models.sla import SlaClock
from tests.builders import NOW, TZ, act, make_complaint, register, unit, user

H = timedelta(hours=1)


def clock(session, c, kind):
    return session.scalar(select(SlaClock).where(SlaClock.complaint_id == c.id, SlaClock.kind == kind))


def sweep(session, at):
    result = reminders.sweep(session, at)
    session.commit()
    return result


def who(session, c, kind, level):
    """Usernames reminded about `c`'s `kind` clock at `level`."""
    k = clock(session, c, kind)
    rows = session.scalars(select(Notification).where(Notification.dedupe_key.like(f"r{k.id}:{level}:%"))).all()
    for n in rows:
        assert n.kind == f"sla:{level}:{kind}" and n.complaint_id == c.id
    names = [session.get(type(user(session, "quality")), n.user_id).username for n in rows]
    assert len(names) == len(set(names)), "someone was reminded twice"
    return set(names)


def keyed(session):
    return session.scalar(select(func.count()).select_from(Notification).where(Notification.dedupe_key.is_not(None)))


def test_each_level_goes_to_its_people_once(session, company):
    c = register(session)      # generic preset: dispatch within 24 calendar hours
    session.commit()
    k = clock(session, c, "dispatch")
    assert (k.warn_at, k.deadline, k.escalate_at) == (NOW + 18 * H, NOW + 24 * H, NOW + 30 * H)
    assert k.next_alert_at == k.warn_at and k.alert_level == 0

    assert sweep(session, NOW + H).notices == 0
    sweep(session, NOW + 18 * H)
    # warn → the current assignee: a new complaint sits with the quality department
    assert who(session, c, "dispatch", "warn") == {"quality", "quality2"}
    before = keyed(session)
    assert sweep(session, NOW + 18 * H + timedelta(seconds=30)).notices == 0 and keyed(session) == before
    sweep(session, NOW + 24 * H)
    # due → assignee + their head (quality2 heads 品管部) + the first responder
    assert who(session, c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    sweep(session, NOW + 30 * H)
    assert who(session, c, "dispatch", "escalate") == {"manager", "vp"}
    session.refresh(k)
    assert k.alert_level == 3 and k.next_alert_at is None
    before = keyed(session)
    assert sweep(session, NOW + 300 * H).clocks >= 0 and who(session, c, "dispatch", "escalate") == {"manager", "vp"}
    assert who(session, c, "dispatch", "warn") == {"quality", "quality2"}
    # only other clocks (answer, close …) may have added theirs
    assert keyed(session) >= before


def test_a_clock_found_late_skips_the_warning_but_not_the_escalation(session, company):
    c = register(session)
    session.commit()
    sweep(session, NOW + 31 * H)     # Redis was down all night: the first sweep sees everything at once
    assert who(session, c, "dispatch", "warn") == set()
    assert who(session, c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    assert who(session, c, "dispatch", "escalate") == {"manager", "vp"}


def test_the_assignee_follows_the_stage(session, company):
    named = make_complaint(session, "investigating", investigator="handler2")
    unnamed = make_complaint(session, "investigating")
    session.commit()
    sweep(session, NOW + 36 * H + timedelta(minutes=1))   # generic: initial cause 48 h → warn at 36 h
    assert who(session, named, "initial_cause", "warn") == {"handler2"}
    assert who(session, unnamed, "initial_cause", "warn") == {"prod_head"}   # the department's head
    sweep(session, NOW + 48 * H)
    assert who(session, named, "initial_cause", "due") == {"handler2", "prod_head", "receiver"}
    # the dispatch clock stopped when they were dispatched: never reminded
    assert who(session, named, "dispatch", "due") == set() and clock(session, named, "dispatch").stopped_at == NOW


def test_approvals_remind_the_approver(session, company):
    c = make_complaint(session, "pending_approval", investigator="handler2")   # 68 yuan, general → the head approves
    session.commit()
    sweep(session, NOW + 18 * H)         # generic approval: 24 h
    assert who(session, c, "approval", "warn") == {"prod_head"}
    major = make_complaint(session, "pending_approval", investigator="handler2", severity="major")
    session.commit()
    sweep(session, NOW + 24 * H)
    assert who(session, major, "approval", "due") == {"manager", "vp", "receiver"}


@pytest.mark.parametrize("offset", [0, 1])
def test_overlapping_sweeps_write_each_reminder_once(session, company, offset):
    complaints = [register(session) for _ in range(12)]
    session.commit()
    engine = session.get_bind()
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
    session.expire_all()
    for c in complaints:
        assert who(session, c, "dispatch", "due") == {"quality", "quality2", "receiver"}
    # no duplicate rows at all (the unique ledger key would have refused them)
    rows = session.execute(select(Notification.user_id, Notification.complaint_id, Notification.kind)
                              .where(Notification.dedupe_key.is_not(None))).all()
    assert len(rows) == len(set(rows))


def test_paused_clocks_send_nothing_and_resume_with_the_time_they_had(session, company):
    c = register(session)
    session.commit()
    k = clock(session, c, "dispatch")
    deadline = k.deadline
    act(session, "quality", c, "pause", at=NOW + H, reason="等顾客发小票照片")
    session.commit()
    assert c.paused_at == NOW + H and c.pause_reason == "等顾客发小票照片"
    assert k.paused_at == NOW + H and k.next_alert_at is None
    assert sweep(session, NOW + 40 * H).notices == 0 or who(session, c, "dispatch", "due") == set()
    assert who(session, c, "dispatch", "warn") == set() and who(session, c, "dispatch", "due") == set()
    act(session, "quality", c, "resume", at=NOW + 41 * H)
    session.commit()
    assert k.deadline == deadline + 40 * H and k.paused_seconds == 40 * 3600 and k.paused_at is None
    assert c.paused_at is None
    assert [e.kind for e in c.events][-2:] == ["pause", "resume"]
    sweep(session, NOW + 41 * H + timedelta(minutes=1))
    assert who(session, c, "dispatch", "warn") == set()   # 1 h used of 24: nothing yet
    sweep(session, NOW + 64 * H)
    assert who(session, c, "dispatch", "due") == {"quality", "quality2", "receiver"}


def test_a_working_day_clock_paused_over_a_weekend_loses_no_working_time(session, company):
    c = register(session)        # Monday 11:00: answer within 5 working days → Monday next 11:00
    session.commit()
    k = clock(session, c, "answer")
    deadline = k.deadline
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)      # Fri 17:00 Shanghai
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)      # Mon 09:00 Shanghai
    act(session, "quality", c, "pause", at=friday, reason="等检测样品")
    act(session, "quality", c, "resume", at=monday)
    session.commit()
    # Friday 17:00 → 18:00 was the only working time lost: one working hour later
    assert k.deadline == deadline + H


def test_a_stage_change_ends_the_pause(session, company):
    c = register(session)
    act(session, "quality", c, "pause", at=NOW + H, reason="等顾客回电")
    act(session, "quality", c, "dispatch", unit_id=unit(session, "生产部").id)   # at NOW: the workflow moved on
    assert c.paused_at is None and all(k.paused_at is None for k in session.scalars(
        select(SlaClock).where(SlaClock.complaint_id == c.id)))


def test_the_morning_digests_go_once_on_working_days(session, company):
    local_0831 = datetime(2026, 11, 24, 0, 31, tzinfo=timezone.utc)   # Tuesday 08:31 Shanghai
    assert reminders.send_digests(session, local_0831 - timedelta(minutes=2)) == 0   # 08:29: not yet
    written = reminders.send_digests(session, local_0831)
    session.commit()
    heads = {n.user_id for n in session.scalars(select(Notification).where(Notification.kind == "digest:head"))}
    managers = {n.user_id for n in session.scalars(select(Notification).where(Notification.kind == "digest:manager"))}
    assert user(session, "prod_head").id in heads and user(session, "handler2").id not in heads
    assert managers == {user(session, "manager").id, user(session, "vp").id}
    quality = {n.user_id for n in session.scalars(select(Notification).where(Notification.kind == "digest:quality"))}
    assert written == len(heads) + len(managers) + len(quality)
    assert reminders.send_digests(session, local_0831 + H) == 0
    saturday = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    assert reminders.send_digests(session, saturday) == 0
    settings.set_digest_times(session, user(session, "admin"), "07:00", "10:15", now=utcnow())
    session.commit()
    wednesday_0900 = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)
    reminders.send_digests(session, wednesday_0900)
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "digest:manager", Notification.at == wednesday_0900)) == 0
    assert session.get(Setting, "digest_times").value == {"head": "07:00", "manager": "10:15"}


def test_digest_times_are_checked(session, company):
    from domain.errors import InvalidInput
    with pytest.raises(InvalidInput):
        settings.set_digest_times(session, user(session, "admin"), "25:00", "08:30", now=utcnow())
    assert settings.set_digest_times(session, user(session, "admin"), "7：05", "8:30", now=utcnow()) == \
        {"head": "07:05", "manager": "08:30"}


def test_the_empty_sweep_does_nothing(session, company):
    register(session)
    session.commit()
    assert sweep(session, NOW + H) == reminders.SweepResult(0, 0, 0)


def test_importing_next_years_arrangement_recomputes_estimated_deadlines(session, company):
    from zoneinfo import ZoneInfo

    from domain import clocks
    tz = ZoneInfo("Asia/Shanghai")
    # Registered Thursday 2026-12-31 10:00: 5 working days run into 2027, which the package
    # does not cover: estimated on weekends and New Year's Day only, and marked unconfirmed.
    at = datetime(2026, 12, 31, 10, 0, tzinfo=tz).astimezone(timezone.utc)
    from domain import intake
    from models.complaint import Category
    data = intake.IntakeData(customer_name="王女士", customer_phone="13812345678", content="月饼里有头发",
                             category_id=session.scalar(select(Category.id).where(Category.name == "异物")),
                             severity="general")
    c = intake.register(session, user(session, "receiver"), data, now=at, tz=tz).complaint
    session.commit()
    k = clock(session, c, "answer")
    assert not k.confirmed
    assert k.deadline == datetime(2027, 1, 8, 10, 0, tzinfo=tz)   # Jan 4–7 and the rest of Dec 31… → Fri 8th
    # The State Council's (here: a test) arrangement: Jan 1–3 off, and Monday Jan 4 off too.
    text = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n2027-01-03,holiday,元旦\n" \
           "2027-01-04,holiday,元旦调休\n"
    imported = clocks.import_calendar(session, user(session, "admin"), text, at)
    assert (imported.year, imported.days) == (2027, 4) and imported.recomputed >= 1
    session.commit()
    assert k.confirmed and k.deadline == datetime(2027, 1, 11, 10, 0, tzinfo=tz)
    assert k.next_alert_at == k.warn_at


def test_admin_edits_to_the_preset_apply_to_new_clocks_only(session, company):
    from domain.errors import InvalidInput
    before = register(session)
    settings.set_sla_preset(session, user(session, "admin"), "bank", now=utcnow())
    settings.set_sla_limits(session, user(session, "admin"), {
        **{k: (str(v.amount), v.unit.value) for k, v in __import__("domain.sla", fromlist=["x"]).limits_for("bank").items()},
        "dispatch": ("2", "working_hours")}, now=utcnow())
    session.commit()
    after = register(session)
    old = clock(session, before, "dispatch")
    assert old.amount == 24 and old.preset == "generic"
    k = clock(session, after, "dispatch")
    assert (k.preset, k.amount, k.unit, k.source) == ("bank", 2, "working_hours", "管理员修改")
    close = clock(session, after, "close")
    assert close.unit == "working_days" and close.amount == 10   # bank: 10 wd
    with pytest.raises(InvalidInput) as err:
        settings.set_sla_limits(session, user(session, "admin"), {"dispatch": ("-1", "working_hours"),
                                                            "answer": ("400", "working_days")}, now=utcnow())
    assert {"amount_dispatch", "amount_answer"} <= {p.field for p in err.value.problems}


def test_overdue_counts_per_clock_are_capped_and_skip_paused_clocks(session, company):
    cs = [register(session) for _ in range(3)]
    act(session, "quality", cs[0], "pause", at=NOW + H, reason="等顾客回电")
    session.commit()
    counts = reminders.overdue_by_clock(session, NOW + 25 * H)
    assert counts["dispatch"] == 2 and counts["first_contact"] == 2 and "answer" not in counts
    assert reminders.overdue_by_clock(session, NOW + 25 * H, cap=1)["dispatch"] == 1
    assert reminders.overdue_count(session, NOW + 25 * H) == 2


def test_the_quality_head_gets_quality_s_digest_once_on_working_days(session, company):
    """Issue 13: only heads with the handler role got a digest; the head of 品管部 (吴芳) had none."""
    from domain import messages
    late = register(session)                                      # Mon 11:00: dispatch due Tue 11:00
    today = register(session, at=datetime(2026, 11, 23, 17, 0, tzinfo=TZ))   # Mon 17:00: dispatch due Tue 17:00
    elsewhere = make_complaint(session, "investigating")                # with 生产部 now: not quality's to chase
    session.commit()

    def quality_digests():
        return session.scalars(select(Notification).where(Notification.kind == "digest:quality")).all()

    national_day = datetime(2026, 10, 1, 1, 0, tzinfo=timezone.utc)     # Thursday 09:00, a holiday
    saturday = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
    for day_off in (national_day, saturday):
        reminders.send_digests(session, day_off)
    assert quality_digests() == []
    tuesday_noon = datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc)    # 12:00 Shanghai
    reminders.send_digests(session, tuesday_noon)
    session.commit()
    assert [n.user_id for n in quality_digests()] == [user(session, "quality2").id]   # 李静 is not the head
    assert reminders.send_digests(session, tuesday_noon + H) == 0
    assert len(quality_digests()) == 1

    subject, lines, _link = messages._quality_digest(session, messages.chinese, tuesday_noon)
    assert subject == "【客诉日报】品管待办：已超时 1 条，今日到期 1 条"
    assert lines == ["待分派（2 条）：",
                     f"  {late.number} 分派 已超时（截止 2026-11-24 11:00）",
                     f"  {today.number} 分派 今天 17:00 到期"]
    assert elsewhere.number not in "\n".join(lines)


def test_the_import_recomputes_clocks_that_waited_for_the_customer(session, company):
    """Issue 13: a deadline moved by a pause kept its estimate, still 未确认, after the import."""
    from zoneinfo import ZoneInfo

    from domain import clocks
    tz = ZoneInfo("Asia/Shanghai")
    registered = datetime(2026, 12, 31, 10, 0, tzinfo=tz)    # Thursday: 5 working days run into 2027
    paused, resumed = datetime(2027, 1, 5, 10, 0, tzinfo=tz), datetime(2027, 1, 6, 15, 0, tzinfo=tz)

    def resume(c):
        act(session, "quality", c, "resume", at=resumed)

    def waited(c, then_resume=True):
        act(session, "quality", c, "pause", at=paused, reason="等顾客寄回样品")
        if then_resume:
            resume(c)
        return c

    done = waited(register(session, at=registered))                   # paused and resumed before the import
    waiting = waited(register(session, at=registered), then_resume=False)   # still waiting at the import
    session.commit()
    k = clock(session, done, "answer")
    # Estimated (weekends and New Year's Day): Fri Jan 8 10:00; the 27 working hours left at the
    # pause are given again from Wed 15:00 → Mon Jan 11 15:00.
    assert not k.confirmed and k.deadline == datetime(2027, 1, 11, 15, 0, tzinfo=tz)
    assert not clock(session, waiting, "answer").confirmed

    assert clocks.import_calendar(session, user(session, "admin"), "2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n"
                                  "2027-01-03,holiday,元旦\n2027-01-04,holiday,元旦调休\n", resumed).recomputed >= 2
    session.commit()
    # Imported: 5 working days → Mon Jan 11 10:00; the 36 working hours left at the pause (Tue
    # 10:00) given again from Wed 15:00 → Tue Jan 12 15:00, confirmed.
    assert k.confirmed and k.deadline == datetime(2027, 1, 12, 15, 0, tzinfo=tz)
    assert k.next_alert_at == k.warn_at and k.paused_seconds == 29 * 3600
    w = clock(session, waiting, "answer")
    assert w.paused_at == paused and w.next_alert_at is None and w.deadline == datetime(2027, 1, 11, 10, 0, tzinfo=tz)
    resume(waiting)

    # The same as clocks started on the imported calendar and paused the same way.
    fresh = waited(register(session, at=registered))
    session.commit()

    def times(c):
        return {k.kind: (k.deadline, k.warn_at, k.escalate_at, k.confirmed, k.paused_seconds, k.paused_at,
                         k.next_alert_at)
                for k in session.scalars(select(SlaClock).where(SlaClock.complaint_id == c.id))}
    expected = times(fresh)
    # The limit gives 45 working hours (Dec 31 8 h, Jan 5–8, Jan 11 1 h): warn after 33¾ h (Thu Jan 7
    # 16:45), escalate 11¼ h after the deadline (Tue Jan 12 12:15), both moved on by the pause.
    assert expected["answer"][:4] == (datetime(2027, 1, 12, 15, 0, tzinfo=tz), datetime(2027, 1, 11, 12, 45, tzinfo=tz),
                                      datetime(2027, 1, 13, 17, 15, tzinfo=tz), True)
    assert times(done) == expected and times(waiting) == expected
