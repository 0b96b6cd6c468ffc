"""Personal data on screen (SPEC §1): masked for those who don't need it; a reveal is logged.

Who needs it: quality and managers (they call customers back and approve answers); the
receiver side of the record (its first responder and receivers covering the receiving unit).
Handlers of the department the complaint is assigned to see it; other handlers see it masked.
"""
from __future__ import annotations

from datetime import datetime

from domain import audit
from domain.roles import Role
from domain.scoping import covers_unit, sees_everything

PERSONAL_FIELDS = ("customer_phone", "customer_email", "customer_address")


def needs_personal_data(session, user, complaint) -> bool:
    if sees_everything(user) or complaint.first_responder_id == user.id:
        return True
    if user.has_role(Role.HANDLER) and complaint.responsible_unit_id is not None \
            and covers_unit(session, user, complaint.responsible_unit_id):
        return True  # the department now handling it calls the customer
    return user.has_role(Role.RECEIVER) and covers_unit(session, user, complaint.receiving_unit_id)


def unmasked_condition(session, user):
    """`needs_personal_data` as a SQL condition on Complaint (keep the two in step), or None
    when `user` sees every record unmasked. The register's phone search uses it: a prefix
    matches only where the phone is shown in full, elsewhere only the whole number does
    (issue 13: a masked 138****5678 is not recovered digit by digit)."""
    from sqlalchemy import or_

    from domain.scoping import covered_unit_ids
    from models.complaint import Complaint
    if sees_everything(user):
        return None
    units = covered_unit_ids(session, user)
    terms = [Complaint.first_responder_id == user.id]
    if user.has_role(Role.HANDLER):
        terms.append(Complaint.responsible_unit_id.in_(units))
    if user.has_role(Role.RECEIVER):
        terms.append(Complaint.receiving_unit_id.in_(units))
    return or_(*terms)


def mask_phone(phone: str | None) -> str | None:
    """138****1234; short numbers keep only their last two digits."""
    if not phone:
        return phone
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if local else "***@" + domain


def mask_address(address: str | None) -> str | None:
    """Keep the first 6 characters (city/district), hide the rest."""
    if not address:
        return address
    return address[:6] + "****" if len(address) > 6 else "****"


def masked(complaint) -> dict[str, str | None]:
    return {"customer_phone": mask_phone(complaint.customer_phone),
            "customer_email": mask_email(complaint.customer_email),
            "customer_address": mask_address(complaint.customer_address)}


def shown(complaint, revealed: bool) -> dict[str, str | None]:
    if revealed:
        return {name: getattr(complaint, name) for name in PERSONAL_FIELDS}
    return masked(complaint)


def record_phone_search(session, user, ip: str | None = None, *, now: datetime, **found) -> None:
    """A register search by phone from someone who does not see every phone in full (all but
    quality and managers): logged like a reveal — who searched and what matched (`found`:
    complaint ids or a count), never the number."""
    if sees_everything(user):
        return
    audit.record(session, audit.PHONE_SEARCHED, now=now, actor_id=user.id, target="complaints:search", ip=ip, **found)


def reveal(session, user, complaint, ip: str | None = None, *, now: datetime) -> dict[str, str | None]:
    """The unmasked values, with an audit event that says who saw whose data (not the data)."""
    audit.record(session, audit.PII_REVEALED, now=now, actor_id=user.id, target=f"complaint:{complaint.id}", ip=ip,
                 fields=[name for name in PERSONAL_FIELDS if getattr(complaint, name)])
    return shown(complaint, True)
