"""The admin's penalty table over HTTP."""
from decimal import Decimal

from domain import penalties
from models import db
from tests.builders import as_user


def full_form(**changes):
    form = {f"rule_{sev}_{kind}": str(v) for sev, row in penalties.DEFAULT_RULES.items() for kind, v in row.items()}
    form.update({f"surcharge_{k}": str(v) for k, v in penalties.DEFAULT_SURCHARGES.items()})
    form.update(changes)
    return form


def test_the_admin_keeps_the_penalty_table(login_as, app):
    admin = login_as("admin")
    page = admin.get("/admin/penalties").get_data(as_text=True)
    assert 'name="rule_major_factory"' in page and 'value="5000"' in page and "瞒报/漏报" in page
    bad = admin.post("/admin/penalties", full_form(rule_general_team="两百", surcharge_repeat="999"))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写 0 到 1000000 之间的金额" in text and "请填写 0 到 500 之间的百分比" in text
    assert 'value="两百"' in text                          # the typed value is kept
    assert admin.post("/admin/penalties", full_form(rule_general_team="260")).status_code == 303
    assert penalties.rules(db.session)["general"]["team"] == Decimal("260")
    assert admin.post("/admin/penalties", full_form(), csrf=False).status_code == 400
    manager = as_user(app, "manager")
    assert manager.get("/admin/penalties").status_code == 403
