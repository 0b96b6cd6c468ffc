"""Browser tests: Debian's /usr/bin/chromium driven by Playwright (never a downloaded browser),
against the app served by a real HTTP server in a thread."""
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SIZES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 1024, "height": 768}}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, demo):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Requests still running when the test ends (the bell polls in the background) finish before
    # the app and its database connections are torn down: server_close() waits for them.
    server.daemon_threads, server.block_on_close = False, True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture(params=list(SIZES))
def page(request, browser, live_server):
    # After the server, so closed before it: a closing page still sends requests (the bell asks
    # again when the page is hidden), and they must reach a live app, not a torn-down one.
    size = request.param
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone", has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    page.console_errors = []
    # A 422 (form with messages) is an expected answer; the browser still logs it as an error.
    page.on("console", lambda m: page.console_errors.append(m.text)
            if m.type == "error" and "status of 422" not in m.text else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()
