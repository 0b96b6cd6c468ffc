"""Roles (SPEC §1). A user has one or more."""
from enum import StrEnum

from domain.errors import N_


class Role(StrEnum):
    RECEIVER = "receiver"
    HANDLER = "handler"
    QUALITY = "quality"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.RECEIVER: N_("受理人"),
    Role.HANDLER: N_("责任部门处理人"),
    Role.QUALITY: N_("品管审核"),
    Role.MANAGER: N_("总经理/主管"),
    Role.ADMIN: N_("系统管理员"),
}

# Where a user with several roles lands after login: the role with the widest duty first.
HOME_ORDER = (Role.MANAGER, Role.QUALITY, Role.HANDLER, Role.RECEIVER, Role.ADMIN)

# Roles that see every complaint (SPEC §1 scoping).
SEE_ALL = frozenset({Role.QUALITY, Role.MANAGER})


def home_role(roles) -> Role | None:
    for role in HOME_ORDER:
        if role in roles:
            return role
    return None


def parse_roles(values) -> list[Role]:
    """Known roles in canonical order; unknown values are dropped by the caller's form."""
    wanted = set(values)
    return [r for r in Role if r.value in wanted]
