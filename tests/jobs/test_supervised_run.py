"""The run command's processes under its supervisor, for real: `make` → `python -m jobs.run` →
supervisord → Redis (its own, as on a fresh machine), the web (waitress), RQ worker, scheduler, on a terminal
(a pty). The worker is killed, Redis is stopped for a while and brought back, then killed; the web
keeps serving, the dead come back, the reminders that fell due meanwhile are written once, and
Ctrl-C on the terminal ends everything with make exiting 0."""
from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from sqlalchemy import func, select

from jobs.localredis import answers
from models import db
from models.complaint import Notification
from tests.conftest import UPLOAD_DIR, free_port
from tests.jobs.test_reminder_jobs import dispatch_due, overdue_complaint

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = ["quality", "quality2", "receiver"]


def wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"waited {seconds} s for {what}")


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


class Stack:
    """`make run`'s supervisor started by make on a pseudo-terminal, as a person at a shell would."""

    def __init__(self, tmp_path, database_url):
        self.port = free_port()
        self.redis_url = f"redis://127.0.0.1:{free_port()}/0"     # nothing answers there: its own Redis
        makefile = tmp_path / "Makefile"
        # The recipe line of the real Makefile, without the install and demo-data steps.
        recipe = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "-m jobs.run" in line)
        makefile.write_text(f"BIN := {Path(sys.executable).parent}\nPORT := {self.port}\nrun:\n{recipe}\n")
        self.env = env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": self.redis_url, "KESU_RUN_DIR": str(tmp_path),
               "SECRET_KEY": "test", "KESU_UPLOAD_DIR": UPLOAD_DIR, "KESU_SWEEP_SECONDS": "2"}
        self.master, slave = pty.openpty()

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        self.make = subprocess.Popen(["make", "--no-print-directory", "-C", str(ROOT), "-f", str(makefile), "run"],
                                     stdin=slave, stdout=slave, stderr=slave, env=env,
                                     preexec_fn=controlling_terminal)
        os.close(slave)
        self.output = bytearray()
        threading.Thread(target=self._read, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}"

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def processes(self):
        try:
            return psutil.Process(self.make.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def pid(self, needle):
        """The pid of the one program of supervisord's whose command line contains `needle`
        (RQ's work horses are that program's children, not counted)."""
        found = [p.pid for p in self.processes() if needle in " ".join(_cmdline(p))
                 and "supervisord" in " ".join(_cmdline(_parent(p)))]
        return found[0] if len(found) == 1 else None

    def ctl(self, *args):
        subprocess.run([str(Path(sys.executable).parent / "supervisorctl"), "-c", str(ROOT / "supervisord.conf"),
                        *args], env=self.env, check=True, capture_output=True, timeout=30)

    def ctrl_c(self):
        os.write(self.master, b"\x03")

    def kill_all(self):
        for proc in self.processes():
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        if self.make.poll() is None:
            self.make.kill()
            self.make.wait(10)


def _parent(proc):
    try:
        return proc.parent()
    except psutil.Error:
        return None


def _cmdline(proc):
    try:
        return proc.cmdline() if proc is not None else []
    except psutil.Error:
        return []


def notices(c):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.complaint_id == c.id))


def test_the_supervised_stack_survives_a_killed_worker_and_a_redis_outage(demo, database_url, tmp_path):
    stack = Stack(tmp_path, database_url)
    try:
        wait_for(lambda: status(stack.base + "/login") == 200, 60, "the web to answer")
        wait_for(lambda: answers(stack.redis_url), 30, "its own Redis")
        wait_for(lambda: stack.pid("rq worker") and stack.pid("jobs.scheduler"), 30, "worker and scheduler")
        web, scheduler = stack.pid("waitress-serve"), stack.pid("jobs.scheduler")

        first = overdue_complaint()
        wait_for(lambda: dispatch_due(first) == RECIPIENTS, 30, "the sweep to remind")

        # The worker dies: the web goes on serving, the supervisor starts a new worker, which sweeps.
        worker = stack.pid("rq worker")
        os.kill(worker, signal.SIGKILL)
        assert status(stack.base + "/login") == 200
        wait_for(lambda: stack.pid("rq worker") not in (None, worker), 30, "a new worker")
        second = overdue_complaint()
        wait_for(lambda: dispatch_due(second) == RECIPIENTS, 30, "the new worker's sweep")

        # Redis goes away for longer than several scheduler loops; people keep working meanwhile.
        stack.ctl("stop", "redis")
        assert not answers(stack.redis_url)
        time.sleep(3)                      # a sweep already running when Redis went finishes
        third = overdue_complaint()        # falls due while nothing can run the sweep
        for _ in range(8):
            assert status(stack.base + "/login") == 200
            time.sleep(1)
        assert dispatch_due(third) == []
        assert stack.pid("jobs.scheduler") == scheduler      # waited, did not die
        stack.ctl("start", "redis")
        wait_for(lambda: dispatch_due(third) == RECIPIENTS, 45, "the reminders to catch up")
        time.sleep(5)                      # two more sweeps: nothing is written twice
        assert [dispatch_due(c) for c in (first, second, third)] == [RECIPIENTS] * 3
        assert notices(first) == notices(second) == notices(third)
        assert stack.pid("waitress-serve") == web and stack.pid("jobs.scheduler") == scheduler

        # Its Redis is killed: the supervisor starts it again and the sweeps go on.
        redis = next(p for p in stack.processes() if "redis-server" in " ".join(_cmdline(p)))
        redis.kill()
        fourth = overdue_complaint()
        wait_for(lambda: dispatch_due(fourth) == RECIPIENTS, 45, "a new Redis and the sweep")
        assert [dispatch_due(c) for c in (first, second, third)] == [RECIPIENTS] * 3

        # Ctrl-C on the terminal: everything stops and make exits 0 (no "Error 130").
        children = stack.processes()
        stack.ctrl_c()
        assert stack.make.wait(60) == 0, stack.output.decode(errors="replace")[-3000:]
        assert b"make: ***" not in stack.output
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
    finally:
        stack.kill_all()
        os.close(stack.master)
