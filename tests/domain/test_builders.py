"""tests/builders.make_complaint reaches every stage through the real workflow."""
import pytest

from tests.builders import NOW, STAGES, make_complaint


@pytest.mark.parametrize("stage", STAGES)
def test_make_complaint_reaches_each_stage(session, company, stage):
    c = make_complaint(session, stage)
    assert c.stage == stage and c.version == len(c.events)
    assert all(e.at == NOW for e in c.events)


def test_make_complaint_takes_who_and_when(session, company):
    from datetime import timedelta
    later = NOW + timedelta(days=2)
    c = make_complaint(session, "executing", severity="serious", who={"propose": "prod_head"}, when={"approve": later})
    assert [(e.kind, e.actor.username) for e in c.events][2:] == [("propose", "prod_head"), ("approve", "manager")]
    assert c.events[-1].at == later and c.approval_level == "manager"
