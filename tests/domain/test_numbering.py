"""Numbers are gapless and unique under concurrent submissions, on SQLite and PostgreSQL."""
import threading
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from domain.numbering import allocate, period_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_month_is_the_company_months():
    # 2026-11-30 17:00 UTC is already 1 December in Shanghai.
    assert period_of(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), SHANGHAI) == "TS-202612"
    assert period_of(datetime(2026, 11, 30, 15, 59, tzinfo=timezone.utc), SHANGHAI) == "TS-202611"


def test_serial_restarts_each_month(session):
    nov = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    dec = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)
    assert [allocate(session, nov, SHANGHAI) for _ in range(3)] == [
        "TS-202611-0001", "TS-202611-0002", "TS-202611-0003"]
    assert allocate(session, dec, SHANGHAI) == "TS-202612-0001"
    assert allocate(session, nov, SHANGHAI) == "TS-202611-0004"


def test_a_rolled_back_submission_leaves_no_gap(session):
    now = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    assert allocate(session, now, SHANGHAI) == "TS-202611-0001"
    session.commit()
    assert allocate(session, now, SHANGHAI) == "TS-202611-0002"
    session.rollback()  # e.g. the complaint failed validation after numbering
    assert allocate(session, now, SHANGHAI) == "TS-202611-0002"


def test_concurrent_threads_get_unique_gapless_numbers(session):
    now = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    threads, per_thread = 8, 15
    numbers, errors = [], []
    lock = threading.Lock()
    start = threading.Barrier(threads)
    engine = session.get_bind()

    def submit():
        try:
            start.wait()
            for _ in range(per_thread):
                with Session(engine) as s:
                    # A request reads first (the logged-in user …), then numbers and stores.
                    s.execute(text("SELECT count(*) FROM user_account"))
                    number = allocate(s, now, SHANGHAI)
                    s.commit()
                with lock:
                    numbers.append(number)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors, errors
    expected = {f"TS-202611-{i:04d}" for i in range(1, threads * per_thread + 1)}
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    assert set(numbers) == expected
