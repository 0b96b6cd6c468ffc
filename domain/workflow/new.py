"""待分派 (SPEC §3 stage 1): the dispatcher verifies, classifies and dispatches — or explains
that the company is not responsible."""
from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput, N_
from domain.notify import notify, users_with
from domain.roles import Role
from domain.severity import SEVERITY_LABELS, Severity
from domain.text import checked
from domain.workflow.choices import OTHER_PARTIES
from domain.workflow.core import DISPATCHERS, Action, Fields, Outcome, S, register
from models.complaint import Assignment, Category
from models.org import OrgUnit
from models.user import User


def pick(value, options, field, message=N_("请选择一项。")):
    if value not in options:
        raise InvalidInput(message, field=field)
    return value


@dataclass(frozen=True)
class DispatchFields(Fields):
    unit_id: int | None = None
    investigator_id: int | None = None
    category_id: int | None = None
    severity: str | None = None
    comment: str | None = None


def target(session, c, unit_id, investigator_id):
    """The department (and investigator) chosen to investigate `c`, checked."""
    from domain.orgtree import is_work_unit
    unit = session.get(OrgUnit, unit_id) if isinstance(unit_id, int) and unit_id > 0 else None
    if not is_work_unit(unit):
        raise InvalidInput(N_("请选择责任部门。"), field="unit_id")
    if c.complained_unit_id == unit.id:
        raise InvalidInput(N_("被投诉的单位不能调查自己（公正原则），请分派给其他部门。"), field="unit_id")
    investigator = None
    if investigator_id:
        investigator = session.get(User, investigator_id) if investigator_id > 0 else None
        if investigator is None or not investigator.active or not investigator.has_role(Role.HANDLER) \
                or investigator.org_unit_id != unit.id:
            raise InvalidInput(N_("调查人须是该部门的处理人。"), field="investigator_id")
        if investigator.id == c.complained_user_id:
            raise InvalidInput(N_("被投诉人不能调查自己的投诉（公正原则）。"), field="investigator_id")
    return unit, investigator


def send_to(session, actor, c, now, unit, investigator, notice="assigned") -> dict:
    """Make `unit` (and the investigator) responsible, record the assignment, tell the
    department's heads. Shared by dispatch, reassign and the transfer of an inquiry. Whether the
    complaint is valid and the company's doing is not decided here: the department decides it in
    the investigation (§3.1 stage 2; `propose`, `not_ours`)."""
    c.responsible_unit_id, c.investigator_id, c.dispatched_at = unit.id, investigator.id if investigator else None, now
    session.add(Assignment(complaint_id=c.id, unit_id=unit.id, at=now, by_id=actor.id))
    notify(session, users_with(session, Role.HANDLER, unit.id, heads=True) + [c.investigator_id], c, notice,
           now, actor)
    return {"unit": unit.name, "investigator": investigator.display_name if investigator else None}


def dispatch_choices(session) -> dict:
    from sqlalchemy import select

    from domain.orgtree import work_unit_choices
    from models.user import UserRole
    handlers = session.execute(select(User.id, User.display_name, OrgUnit.name).join(OrgUnit).join(UserRole)
                               .where(UserRole.role == Role.HANDLER, User.active.is_(True))
                               .order_by(OrgUnit.id, User.display_name)).all()
    return {"units": work_unit_choices(session), "handlers": [(i, f"{unit} · {name}") for i, name, unit in handlers]}


@register
class Dispatch(Action):
    name, label, who = "dispatch", N_("核实并分派"), N_("品管/总经理")
    sources, targets, roles = {S.NEW}, [S.INVESTIGATING], DISPATCHERS
    fields = DispatchFields

    def apply(self, session, actor, c, f, now):
        unit, investigator = target(session, c, f.unit_id, f.investigator_id)
        changes = classify(session, c, f.category_id, f.severity)
        changes.update(send_to(session, actor, c, now, unit, investigator))
        return Outcome(S.INVESTIGATING, changes, checked(f.comment, "comment", 2000))

    def form_context(self, session, actor, c):
        from domain.categories import options
        return {**dispatch_choices(session), "category_options": options(session),
                "severity_options": list(SEVERITY_LABELS.items())}


def classify(session, c, category_id, severity) -> dict:
    """The dispatcher confirms or corrects category and severity (never below a forced major)."""
    changes = {}
    if category_id and category_id != c.category_id:
        category = session.get(Category, category_id) if category_id > 0 else None
        if category is None or not category.active:
            raise InvalidInput(N_("请选择投诉类别。"), field="category_id")
        changes["category"] = [c.category.name, category.name]
        c.category_id = category.id
    if severity and severity != c.severity:
        try:
            chosen = Severity(severity)
        except ValueError:
            raise InvalidInput(N_("请选择严重程度。"), field="severity") from None
        if c.severity_reasons and chosen is not Severity.MAJOR:
            raise InvalidInput(N_("这条投诉因安全、金额或媒体等原因被定为重大，不能降级。"), field="severity")
        changes["severity"] = [c.severity, chosen.value]
        c.severity = chosen.value
    return changes


@dataclass(frozen=True)
class NotResponsibleFields(Fields):
    valid: bool = True
    other_party: str | None = None
    explanation: str | None = None


class Explanation(Action):
    """The complaint is unreasonable (不合理), or reasonable but not the company's doing (another
    party's): an explanation is recorded and answered to the customer, then the follow-up
    (§3.1 stages 1–2). The dispatcher finds it at verification (`not_responsible`), the
    responsible department in its investigation (`not_ours`, domain/workflow/investigation.py);
    both share these fields, this effect, the form and the clocks' event."""
    targets, fields = [S.FOLLOW_UP], NotResponsibleFields

    @property
    def template(self) -> str:
        return "complaints/actions/_not_responsible.html"

    def apply(self, session, actor, c, f, now):
        c.valid = bool(f.valid)
        c.company_responsible = False
        c.other_party = pick(f.other_party, OTHER_PARTIES, "other_party", N_("请选择责任方。")) if c.valid else None
        c.explanation = checked(f.explanation, "explanation", 2000, required=True,
                                message=N_("请写下给顾客的解释。"))
        c.customer_accepted = None
        # An earlier approval (the customer did not accept its answer) no longer stands: no
        # responsibility to attribute for a complaint that is not the company's.
        c.approved_by_id = c.approved_at = None
        return Outcome(S.FOLLOW_UP, {"valid": c.valid, "other_party": c.other_party}, c.explanation)

    def clock_event(self, c):
        return "not_responsible"

    def expected_on(self, c):
        return False    # an alternative to the road, never the step expected


@register
class NotResponsible(Explanation):
    name, label, who = "not_responsible", N_("非我司责任，解释答复"), N_("品管/总经理")
    sources, roles = {S.NEW}, DISPATCHERS
