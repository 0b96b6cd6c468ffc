"""What /metrics reports to Prometheus (SPEC §9) besides request latency, and who may read it.

Figures (counted when scraped, never a table scan): open complaints per stage (the StageCount rows
the workflow keeps), overdue running clocks per kind (a short range of the clocks' (kind, deadline)
index each, capped at OVERDUE_CAP), failed outbox messages per channel (the (status, id) index).

Access: a bearer token the administrator creates (shown once, only its SHA-256 stored) or a source
address inside one of the administrator's address ranges. Nothing configured: nobody."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from datetime import datetime

from sqlalchemy import func, select

from domain import audit
from domain.errors import InvalidInput, N_, NotAllowed
from domain.roles import Role
from models.setting import Setting, put
from models.sla import Outbox

ACCESS = "metrics_access"
MAX_NETWORKS = 20
OVERDUE_CAP = 100_000


def access(session) -> dict:
    row = session.get(Setting, ACCESS)
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    return {"token_hash": value.get("token_hash"), "networks": list(value.get("networks") or [])}


def parse_networks(text: str | None) -> list[str]:
    """"10.0.0.0/8, 192.168.1.5" (commas, spaces or lines) → normalised networks; InvalidInput names the
    first one that is not an address or a range."""
    out = []
    for part in re.split(r"[\s,，;；]+", (text or "").strip()):
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise InvalidInput(N_("地址范围格式不对：%(v)s。请写成 10.0.0.0/8 或 192.168.1.5 这样的形式。"),
                               field="networks", v=part[:40]) from None
    if len(out) > MAX_NETWORKS:
        raise InvalidInput(N_("地址范围最多 %(n)d 个。"), field="networks", n=MAX_NETWORKS)
    return list(dict.fromkeys(out))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_access(session, actor, networks_text: str | None, *, new_token: bool = False, drop_token: bool = False,
               ip: str | None = None, now: datetime) -> str | None:
    """Store the address ranges and, when asked, a new token (returned: shown once) or none. The
    caller commits."""
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed(N_("只有系统管理员可以修改设置。"))
    current = access(session)
    networks = parse_networks(networks_text)
    token = secrets.token_urlsafe(32) if new_token else None
    token_hash = _hash(token) if token else (None if drop_token else current["token_hash"])
    put(session, ACCESS, {"token_hash": token_hash, "networks": networks}, by_id=actor.id, now=now)
    audit.record(session, audit.SETTING_CHANGED, actor_id=actor.id, target=f"setting:{ACCESS}", ip=ip, now=now,
                 networks=networks, token="new" if token else ("removed" if drop_token else "kept"))
    return token


def allowed(session, remote_addr: str | None, authorization: str | None) -> bool:
    """A scrape with the token (Authorization: Bearer …) or from an allowed address."""
    config = access(session)
    scheme, _sep, given = (authorization or "").partition(" ")
    if config["token_hash"] and scheme.lower() == "bearer" and given.strip():
        if hmac.compare_digest(_hash(given.strip()), config["token_hash"]):
            return True
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in config["networks"])


def figures(session, now: datetime) -> dict:
    """{"open": {stage: n}, "overdue": {clock kind: n}, "outbox_failed": {channel: n}}."""
    from domain import queues, reminders
    from domain.sla import ClockKind
    from domain.stages import Stage
    stages = queues.stage_counts(session)
    overdue = reminders.overdue_by_clock(session, now, cap=OVERDUE_CAP)
    failed = dict(session.execute(select(Outbox.channel, func.count()).where(Outbox.status == "failed")
                                  .group_by(Outbox.channel)).all())
    return {"open": {s.value: max(0, stages.get(s.value, 0)) for s in Stage if s is not Stage.CLOSED},
            "overdue": {k.value: overdue.get(k.value, 0) for k in ClockKind},
            "outbox_failed": failed}
