"""Adding a workflow action is one module and one template: a dummy action registered in one place
is offered on the record page, listed in the flow table, has its form, runs, and is on the
timeline — without touching the views, the frame template or the workflow's machinery."""
from dataclasses import dataclass

import pytest
from jinja2 import ChoiceLoader, DictLoader

from domain import workflow
from domain.errors import N_
from domain.roles import Role
from domain.stages import Stage
from domain.text import checked
from models import db
from tests.builders import as_user, register_on_screen, step, unit


@dataclass(frozen=True)
class TastingFields(workflow.Fields):
    note: str | None = None


class Tasting(workflow.Action):
    """Quality tastes the returned sample during the investigation (a made-up action)."""
    name, label, who = "taste_sample", N_("品尝留样"), N_("品管")
    sources, roles, fields, on_the_road, button = {Stage.INVESTIGATING}, {Role.QUALITY}, TastingFields, False, "side"

    def apply(self, session, actor, c, f, now):
        note = checked(f.note, "note", 200, required=True, message=N_("请填写这一项。"))
        return workflow.Outcome(None, {"note": note}, note)


@pytest.fixture
def tasting(app):
    workflow.register(Tasting)
    app.jinja_env.loader = ChoiceLoader([DictLoader({"complaints/actions/_taste_sample.html": (
        '{% from "complaints/actions/_parts.html" import text with context %}{{ text("note", "味道") }}')}),
        app.jinja_env.loader])
    yield workflow.ACTIONS["taste_sample"]
    del workflow.ACTIONS["taste_sample"]


def test_a_new_action_is_one_registration_and_one_template(login_as, app, tasting):
    c = register_on_screen(login_as("receiver"))
    quality = as_user(app, "quality")
    assert step(quality, c, "dispatch", unit_id=unit(db.session, "生产部").id).status_code == 204
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert f"/complaints/{c.id}/act/taste_sample" in record          # offered now
    assert record.count("品尝留样") == 2                               # the button and the flow table's row
    form = quality.get(f"/complaints/{c.id}/act/taste_sample", htmx=True).get_data(as_text=True)
    assert 'name="note"' in form and 'name="version"' in form
    bad = step(quality, c, "taste_sample", note="")
    assert bad.status_code == 422 and "请填写这一项" in bad.get_data(as_text=True)
    assert step(quality, c, "taste_sample", note="偏咸").status_code == 204
    record = quality.get(f"/complaints/{c.id}").get_data(as_text=True)
    assert "偏咸" in record                                           # on the timeline
    handler = as_user(app, "handler2")                                # not a quality role: not offered
    assert "act/taste_sample" not in handler.get(f"/complaints/{c.id}").get_data(as_text=True)
