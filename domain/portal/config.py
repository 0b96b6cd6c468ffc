"""The public pages' settings (SPEC §7), kept by the administrator: on or off, the company's name
and the texts the customer reads, the privacy notice (PIPL), how long a survey link is valid, and
who receives the complaints that come in online (their first responder, SPEC §5)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from domain import audit
from domain.errors import InvalidInput, InvalidInputs, N_, NotAllowed
from domain.roles import Role
from domain.text import checked
from models.setting import Setting, put

KEY = "portal"

DEFAULT_PRIVACY = (
    "我们收集您的姓名、联系电话或邮箱、投诉内容和您上传的照片，只用于处理这条投诉、与您联系和"
    "回访满意度；经您同意，我们会通过短信或邮件告知受理编号、答复和评价链接。资料仅由处理投诉的员工"
    "查看，不会提供给第三方，保存期满后匿名化处理。您可以随时联系我们查阅、更正或删除您的个人信息。")
DEFAULT_INTRO = "请告诉我们发生了什么，我们会尽快核实处理。提交后您会看到投诉编号，凭编号和手机号后四位可以查询进度。"
LINK_DAYS = (1, 90)
HOTLINE_RE = re.compile(r"^[0-9+()（）\- 转]{3,40}$")


@dataclass(frozen=True)
class PortalConfig:
    enabled: bool = True
    company_name: str = ""
    intro: str = DEFAULT_INTRO
    privacy: str = DEFAULT_PRIVACY
    link_days: int = 7                    # a survey link's validity
    receiver_id: int | None = None        # the first responder of online complaints
    hotline: str = ""                     # 客服电话: on every customer page, the slip and the messages


def portal_config(session) -> PortalConfig:
    row = session.get(Setting, KEY)
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    known = {k: v for k, v in value.items() if k in PortalConfig.__dataclass_fields__}
    return PortalConfig(**known)


def online_receiver(session, config: PortalConfig | None = None):
    """Who receives online complaints: the administrator's choice while active with the receiver
    role; otherwise the first active quality reviewer (they triage anyway); None when neither."""
    from models.user import User, UserRole
    config = config or portal_config(session)
    if config.receiver_id:
        user = session.get(User, config.receiver_id)
        if user is not None and user.active and user.has_role(Role.RECEIVER):
            return user
    return session.scalar(select(User).join(UserRole).where(UserRole.role == Role.QUALITY, User.active.is_(True))
                          .order_by(User.id).limit(1))


def receiver_choices(session) -> list:
    """Active users with the receiver role (the administrator's choices)."""
    from models.user import User, UserRole
    return list(session.scalars(select(User).join(UserRole).where(UserRole.role == Role.RECEIVER, User.active.is_(True))
                                .order_by(User.display_name, User.id)))


def set_portal_config(session, actor, *, enabled, company_name, intro, privacy, link_days, receiver_id,
                      hotline="", ip=None, now: datetime) -> PortalConfig:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    problems = []

    def check(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InvalidInput as err:
            problems.append(err)
            return None

    name = check(checked, company_name, "company_name", 60, multiline=False)
    phone = check(checked, hotline, "hotline", 40, multiline=False)
    if phone and not HOTLINE_RE.match(phone):
        problems.append(InvalidInput(N_("客服电话只能有数字、空格、+、- 和括号，例如 400-820-1234。"), field="hotline"))
    intro_text = check(checked, intro, "intro", 500)
    privacy_text = check(checked, privacy, "privacy", 3000, required=True,
                         message=N_("请填写个人信息保护说明：收集什么、为什么收集。"))
    try:
        days = int(str(link_days).strip())
        if not LINK_DAYS[0] <= days <= LINK_DAYS[1]:
            raise ValueError
    except ValueError:
        days = None
        problems.append(InvalidInput(N_("链接有效期须是 1 到 90 天。"), field="link_days"))
    receiver = None
    if receiver_id not in (None, "", 0, "0"):
        from models.user import User
        try:
            receiver = session.get(User, int(receiver_id))
        except (TypeError, ValueError):
            receiver = None
        if receiver is None or not receiver.active or not receiver.has_role(Role.RECEIVER):
            problems.append(InvalidInput(N_("请选择一位在职的受理人。"), field="receiver_id"))
    if problems:
        raise InvalidInputs(problems)
    config = PortalConfig(enabled=bool(enabled), company_name=name or "", intro=intro_text or "",
                          privacy=privacy_text, link_days=days, receiver_id=receiver.id if receiver else None,
                          hotline=phone or "")
    put(session, KEY, asdict(config), by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{KEY}", ip=ip, now=now,
                 after="on" if config.enabled else "off")
    return config
