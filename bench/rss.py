"""Resident memory of a running `make run`: web + RQ worker + RQ cron + Redis (SPEC §10: ≤ 200 MB).

    make run &                       # then, once it answers:
    .venv/bin/python bench/rss.py [--port 8000] [--warm]

--warm first logs in as each demo role and opens their pages, so the figure is after use.
"""
import argparse
import http.cookiejar
import re
import urllib.parse
import urllib.request

import psutil

GROUPS = {
    "web (gunicorn)": re.compile(r"gunicorn"),
    "rq worker": re.compile(r"rq worker"),
    "rq cron": re.compile(r"rq cron"),
    "redis": re.compile(r"redis-server"),
    "honcho (process manager, not in the budget)": re.compile(r"honcho start"),
}


def warm(base):
    for user in ["admin", "manager", "quality", "handler", "handler2", "receiver", "receiver2"]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        html = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": user, "password": "demo12345"})
        opener.open(base + "/login", form.encode()).read()
        for path in ["/", "/admin/", "/admin/units", "/admin/users", "/admin/audit"]:
            try:
                opener.open(base + path).read()
            except urllib.error.HTTPError:
                pass  # 403 for roles without admin: still a rendered page


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", default="8000")
    ap.add_argument("--warm", action="store_true")
    a = ap.parse_args()
    if a.warm:
        warm(f"http://127.0.0.1:{a.port}")
    totals = {name: 0 for name in GROUPS}
    for proc in psutil.process_iter(["cmdline", "memory_info"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        for name, pattern in GROUPS.items():
            if pattern.search(cmd) and proc.info["memory_info"]:
                totals[name] += proc.info["memory_info"].rss
                break
    budget = 0
    for name, rss in totals.items():
        print(f"{rss / 2**20:7.1f} MB  {name}")
        if "honcho" not in name:
            budget += rss
    print(f"{budget / 2**20:7.1f} MB  web + worker + cron + redis (budget 200 MB)")


if __name__ == "__main__":
    main()
