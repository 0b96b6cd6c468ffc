"""Resident memory of a running `make run`: web + RQ worker + RQ cron + Redis (SPEC §10: ≤ 200 MB).

    make run &                       # then, once it answers:
    .venv/bin/python bench/rss.py [--port 8000] [--warm]

--warm first logs in as each demo role and opens their pages (a complaint's slip, the monthly report, the
monthly meeting and its minutes), then opens the
customer's pages without login, so the figure is after use.
"""
import argparse
import http.cookiejar
import re
import urllib.parse
import urllib.request

import psutil

GROUPS = {
    "web (waitress)": re.compile(r"waitress-serve|gunicorn"),
    "rq worker": re.compile(r"rq worker"),
    "scheduler": re.compile(r"jobs\.scheduler"),
    "redis": re.compile(r"redis-server|jobs\.localredis"),
    "supervisord + launcher (process manager of make run, not in the budget)": re.compile(r"supervisord|jobs\.run"),
}


def warm(base):
    for user in ["admin", "manager", "quality", "handler", "handler2", "receiver", "receiver2"]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        html = opener.open(base + "/login").read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": user, "password": "demo12345"})
        opener.open(base + "/login", form.encode()).read()
        for path in ["/", "/admin/", "/admin/units", "/admin/users", "/admin/audit", "/complaints/",
                     "/complaints/?q=%E7%8E%8B", "/complaints/count", "/receiver/", "/complaints/monthly",
                     "/meetings/"]:
            try:
                page = opener.open(base + path).read().decode()
            except urllib.error.HTTPError:
                continue  # 403 for roles without the page: still a rendered page
            if path == "/complaints/":
                for ident in re.findall(r'href="/complaints/(\d+)"', page)[:3]:
                    opener.open(base + f"/complaints/{ident}").read()
                    opener.open(base + f"/complaints/{ident}/print").read()
                    opener.open(base + f"/complaints/{ident}/slip").read()    # the QR code (segno)
            if path == "/receiver/":
                register_with_photo(opener, base, page)
            if path == "/meetings/":                               # the monthly meeting and its minutes
                for ident in re.findall(r'href="/meetings/(\d+)"', page)[:1]:
                    opener.open(base + f"/meetings/{ident}").read()
                    opener.open(base + f"/meetings/{ident}/minutes").read()


def warm_customer_pages(base):
    """A customer: the form, the lookup (right number, wrong digits) — no login."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    opener.open(base + "/complain").read()
    html = opener.open(base + "/track").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "number": "TS-202612-0001", "proof": "0000"})
    try:
        opener.open(base + "/track", form.encode()).read()
    except urllib.error.HTTPError:
        pass   # 422: not found, as expected


def register_with_photo(opener, base, page):
    """One intake with a photo: the web worker then holds Pillow too."""
    import io
    import uuid

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (3000, 2000), (200, 120, 40)).save(buf, "JPEG")
    fields = {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
              "token": re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1),
              "customer_name": "测试", "customer_phone": "13800000000", "content": "内存测试",
              "category_id": re.search(r'name="category_id" value="(\d+)"', page).group(1),
              "severity": "general", "type": "complaint", "channel": "walk_in"}
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
             f"Content-Type: image/jpeg\r\n\r\n").encode() + buf.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + "/receiver/new", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    opener.open(req).read()


def stack_processes() -> list:
    """The processes of `make run`: supervisord and everything under it, and the Redis answering at
    REDIS_URL's port when it is not one of them (a system Redis the stack reuses) — not the other
    programs of the machine (a test suite's own Redis servers, say)."""
    import os
    from urllib.parse import urlsplit
    found = {}
    for proc in psutil.process_iter(["cmdline"]):
        if "supervisord" in " ".join(proc.info["cmdline"] or []):
            found[proc.pid] = proc
            for child in proc.children(recursive=True):
                found[child.pid] = child
    port = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")).port or 6379
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            found.setdefault(conn.pid, psutil.Process(conn.pid))
    return list(found.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", default="8000")
    ap.add_argument("--warm", action="store_true")
    a = ap.parse_args()
    if a.warm:
        warm(f"http://127.0.0.1:{a.port}")
        warm_customer_pages(f"http://127.0.0.1:{a.port}")
    totals = {name: 0 for name in GROUPS}
    for proc in stack_processes():
        try:
            cmd, rss = " ".join(proc.cmdline()), proc.memory_info().rss
        except psutil.Error:
            continue
        for name, pattern in GROUPS.items():
            if pattern.search(cmd):
                totals[name] += rss
                break
    budget = 0
    for name, rss in totals.items():
        print(f"{rss / 2**20:7.1f} MB  {name}")
        if "not in the budget" not in name:
            budget += rss
    print(f"{budget / 2**20:7.1f} MB  web + worker + scheduler + redis (budget 200 MB)")


if __name__ == "__main__":
    main()
