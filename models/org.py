"""Organisation tree (SPEC §1): company → branches → stores; departments; factories → teams."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db, utcnow


class OrgUnit(db.Model):
    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # company, branch, store, department, factory, team (domain.orgtree.UnitKind)
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The department's group robot (SPEC §4.4): wecom, dingtalk or feishu, its webhook URL and
    # the signing secret where the service uses one (DingTalk, Feishu).
    robot_kind: Mapped[str | None] = mapped_column(String(16))
    robot_url: Mapped[str | None] = mapped_column(String(500))
    robot_secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.id")

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.kind}>"
