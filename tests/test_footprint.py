"""Memory (SPEC §10: web + worker + scheduler + Redis ≤ 200 MB): big libraries load where a job or
a rare page needs them, not when a process starts. Each check runs in a fresh interpreter."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("PIL", "openpyxl", "chinese_calendar", "rq", "segno", "xlsxwriter")


def loaded_after(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_web_app_and_its_login_page_load_no_heavy_library(tmp_path):
    code = f"""
import sys
import babel.core
from app import create_app
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/x.db", "SECRET_KEY": "x",
                  "UPLOAD_DIR": "{tmp_path}/up", "RATELIMIT_ENABLED": False}})
assert app.test_client().get("/login", headers={{"Accept-Encoding": "gzip"}}).status_code == 200
print(sorted(m for m in {HEAVY!r} if m in sys.modules), babel.core._global_data is None)
"""
    # Babel's global CLDR tables (2.5 MB) are only needed to resolve a locale code: app.LOCALES
    assert loaded_after(code) == "[] True"


def test_the_scheduler_loads_neither_flask_nor_the_database_layer():
    code = """
import sys
import jobs.cron
print(sorted(m for m in ("flask", "sqlalchemy", "app", "PIL", "openpyxl", "babel") if m in sys.modules))
"""
    assert loaded_after(code) == "[]"


def test_pages_still_come_in_the_chosen_language(web):
    """app.LOCALES hands Flask-Babel Locale objects: English and Chinese pages as before."""
    page = web.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "English" in page
    web.post("/lang/en")
    page = web.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "简体中文" in page and "Log in" in page
