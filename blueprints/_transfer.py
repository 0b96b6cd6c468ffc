"""How responses travel: gzip where it is safe and worth it (Flask-Compress), static files under
content-hashed URLs cached for a year, and no session on static files."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import request
from flask.sessions import SecureCookieSessionInterface

from extensions import compress

A_YEAR = "public, max-age=31536000, immutable"
# Requests our own pages make (links, forms, HTMX) are same-origin; an address typed or bookmarked
# is "none"; clients that do not send the header (old browsers, scripts) are taken as "none".
SAME_ORIGIN = frozenset({"same-origin", "none"})


def register_transfer(app) -> None:
    versions = static_versions(app.static_folder)
    app.session_interface = SessionInterface()

    @app.url_defaults
    def static_version(endpoint, values):
        """`url_for('static', filename=…)` carries the file's content hash (`?v=…`): a changed
        file gets a new URL, so the old one can be cached for a year."""
        if endpoint == "static" and "v" not in values and values.get("filename") in versions:
            values["v"] = versions[values["filename"]]

    @app.after_request
    def transfer(resp):
        if request.endpoint == "static":
            filename = (request.view_args or {}).get("filename")
            if resp.status_code < 400 and request.args.get("v") == versions.get(filename):
                resp.headers["Cache-Control"] = A_YEAR
        return compress_response(resp)


def compress_response(resp):
    """gzip for pages, fragments, JSON and static text (Flask-Compress: by Accept-Encoding, with
    `Vary: Accept-Encoding`, nothing under 500 bytes, only the types in COMPRESS_MIMETYPES).

    Left as they are: streamed files other than static ones (attachments, Excel: their length,
    ranges and streaming stay as send_file made them), partial content, and every response to a
    request that another site started. BREACH: a compressed page that reflects what the request
    carries (a search term) next to a secret (the CSRF token, a customer's phone number) leaks the
    secret through its size to whoever can make the browser send many requests and watch the
    traffic. Our session cookie is SameSite=Lax, so another site can only do it with top-level
    navigations, and those say `Sec-Fetch-Site: cross-site` (or same-site) — never compressed.
    The CSRF token is a moving target besides: Flask-WTF's token is the session's raw token, a
    timestamp and an HMAC of both, so the part that makes it valid changes every second (the raw
    part alone forges nothing), far faster than BREACH's thousands of requests per secret."""
    if request.endpoint != "static":
        if resp.is_streamed:
            return resp
        if request.headers.get("Sec-Fetch-Site", "none") not in SAME_ORIGIN:
            resp.vary.add("Sec-Fetch-Site")
            return resp
    elif resp.status_code == 200 and resp.mimetype in compress.compress_mimetypes_set:
        # Our static text files are small (htmx: 52 KB): read whole, they are compressed as
        # a body — Flask-Compress's streaming path would not close the file.
        resp.direct_passthrough = False
        resp.make_sequence()
    if resp.status_code == 206:
        return resp
    resp = compress.after_request(resp)
    if "Content-Encoding" in resp.headers:
        resp.headers.pop("Accept-Ranges", None)   # a range would be of the uncompressed file
    return resp


class SessionInterface(SecureCookieSessionInterface):
    """The cookie session, left alone for static files. Flask-Login's after-request hook reads the
    session on every response, and Flask then adds `Vary: Cookie` — which makes a browser fetch
    htmx again whenever the session cookie changed (each login) despite a year's caching. A static
    file depends on no cookie and changes no session."""

    def save_session(self, app, session, response):
        if request.endpoint == "static":
            return None
        return super().save_session(app, session, response)


def static_versions(folder) -> dict[str, str]:
    """filename → the first 12 hex digits of its SHA-256, for every file in static/ (at start)."""
    root = Path(folder)
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in sorted(root.rglob("*")) if path.is_file()}
