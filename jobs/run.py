"""`make run`: supervisord in the foreground with web, worker, scheduler and Redis
(supervisord.conf), until Ctrl-C — which then ends everything and exits 0.

Ctrl-C on a terminal signals the whole foreground process group, `make` included, and make
killed by SIGINT reports "Error 130" however cleanly its child ended. So supervisord starts in a
process group of its own and, on a terminal, this launcher hands that group the terminal: Ctrl-C
reaches only supervisord, which stops its programs (each in its own group) and returns; the
terminal goes back to make's group, and make sees exit 0. Off a terminal, SIGINT, SIGTERM and
SIGHUP sent to the launcher are passed on to supervisord.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _give_terminal(group: int) -> tuple[int, int] | None:
    """Make `group` the terminal's foreground group; returns (fd, the group to give it back to)."""
    try:
        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            return None
        old = os.tcgetpgrp(fd)
        _set_foreground(fd, group)
        return fd, old
    except (OSError, ValueError):
        return None


def _set_foreground(fd: int, group: int) -> None:
    # A process outside the foreground group gets SIGTTOU for tcsetpgrp unless it ignores it.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    finally:
        signal.signal(signal.SIGTTOU, previous)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    run_dir = Path(env.get("KESU_RUN_DIR") or ROOT / "instance").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    env.update(KESU_RUN_DIR=str(run_dir), VENV_BIN=str(Path(sys.executable).parent))
    env.setdefault("HOST", "127.0.0.1")
    env.setdefault("WEB_PORT", env.get("PORT") or "8000")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Our own Redis only when none answers; one that answers is the operator's to keep running.
    from jobs.localredis import answers
    env["KESU_OWN_REDIS"] = "false" if answers(env["REDIS_URL"]) else "true"
    return env


def main() -> int:
    proc = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(ROOT / "supervisord.conf")],
                            env=environment(), cwd=ROOT, process_group=0)
    terminal = _give_terminal(proc.pid)

    def forward(signum, _frame):
        if proc.poll() is None:
            proc.send_signal(signum)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        code = proc.wait()
    finally:
        if terminal is not None:
            try:
                _set_foreground(*terminal)
            except OSError:
                pass
    return 0 if code in (0, -signal.SIGINT, -signal.SIGTERM) else code


if __name__ == "__main__":
    sys.exit(main())
