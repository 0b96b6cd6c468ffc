"""The complaint record (SPEC §2, 《客户投诉记录及处理表》) and its append-only timeline.

Nothing is ever deleted. The stage is written only by the domain's state machine; intake
creates complaints in `new` (or `follow_up` for minor ones settled on the spot, §3.2).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import UTCDateTime, db, utcnow
from models.org import OrgUnit
from models.user import User

Money = Numeric(14, 2)


class Category(db.Model):
    """Two-level complaint category, admin-editable (defaults from SPEC §2)."""
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_category_parent_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.sort")


class Complaint(db.Model):
    __tablename__ = "complaint"
    __table_args__ = (
        # Registry lists: newest first within what a user may see.
        Index("ix_complaint_receiving_unit_created", "receiving_unit_id", "created_at"),
        Index("ix_complaint_first_responder_created", "first_responder_id", "created_at"),
        Index("ix_complaint_stage_created", "stage", "created_at"),
        Index("ix_complaint_created", "created_at", "id"),
        # Queues: a department's open complaints by stage.
        Index("ix_complaint_responsible_stage", "responsible_unit_id", "stage", "created_at"),
        Index("ix_complaint_first_responder_stage", "first_responder_id", "stage", "created_at"),
        Index("ix_complaint_stage_level", "stage", "approval_level", "created_at"),
        Index("ix_complaint_needs_decision", "needs_decision", "created_at"),
        # Quality's "to attribute" queue: approved, not yet attributed (a small slice).
        # (SQLite gets "attributed = 0": the form SQLAlchemy writes for NOT on a boolean there, which
        # the planner must see verbatim to use a partial index.)
        Index("ix_complaint_to_attribute_v2", "approved_at", sqlite_where=text("approved_at IS NOT NULL AND attributed = 0"),
              postgresql_where=text("approved_at IS NOT NULL AND NOT attributed")),
        Index("ix_complaint_category_created", "category_id", "created_at"),
        Index("ix_complaint_severity_created", "severity", "created_at"),
        # Registry search: exact phone, name and product by prefix (range scans on both databases).
        Index("ix_complaint_customer_phone", "customer_phone"),
        Index("ix_complaint_customer_name", "customer_name"),
        Index("ix_complaint_product_name", "product_name"),
        # Links and the complained-against are mostly empty: partial indexes, so that SQLite's
        # statistics (which count NULLs as one huge key) don't talk the planner out of them.
        *(Index(f"ix_complaint_{name}", name, sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"))
          for name in ("repeat_of_id", "duplicate_of_id", "complained_unit_id", "complained_user_id")),
        # The accountability ledger (domain.ledger, issue 17): a period's open complaints of each first
        # responder (overdue now, idle) and closed ones by whole days to close (the middle of a median).
        Index("ix_complaint_ledger_open", "first_responder_id", "created_at", "type", "stage", "receiving_unit_id",
              "ticking_deadline", sqlite_where=text("stage <> 'closed'"), postgresql_where=text("stage <> 'closed'")),
        Index("ix_complaint_ledger_closed", "first_responder_id", "days_to_close", "created_at", "type",
              "receiving_unit_id", "closed_at", sqlite_where=text("days_to_close IS NOT NULL"),
              postgresql_where=text("days_to_close IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # Idempotency token of the intake form: a double tap returns the same complaint.
    intake_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(12), default="complaint")      # complaint/suggestion/inquiry
    channel: Mapped[str] = mapped_column(String(16))
    formal: Mapped[bool] = mapped_column(Boolean, default=False)            # 正式 / 非正式 (IATF)
    stage: Mapped[str] = mapped_column(String(20), default="new")
    version: Mapped[int] = mapped_column(Integer, default=1)                # optimistic lock

    # Customer (personal data: masked for those who don't need it, §1)
    customer_name: Mapped[str] = mapped_column(String(60))
    customer_phone: Mapped[str | None] = mapped_column(String(20))
    customer_email: Mapped[str | None] = mapped_column(String(120))
    customer_company: Mapped[str | None] = mapped_column(String(120))
    customer_address: Mapped[str | None] = mapped_column(String(200))
    customer_code: Mapped[str | None] = mapped_column(String(40))
    customer_class: Mapped[str | None] = mapped_column(String(20))          # vip / key / ordinary
    customer_foreign: Mapped[bool] = mapped_column(Boolean, default=False)  # seed 001: 15 vs 18 days
    # The customer agreed to be sent messages about this complaint (SMS / e-mail, SPEC §7; PIPL).
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    # Product / order
    product_name: Mapped[str | None] = mapped_column(String(120))
    model_no: Mapped[str | None] = mapped_column(String(60))                # 料号
    batch_no: Mapped[str | None] = mapped_column(String(60))                # 批号
    quantity: Mapped[int | None] = mapped_column(Integer)
    defective_quantity: Mapped[int | None] = mapped_column(Integer)
    order_no: Mapped[str | None] = mapped_column(String(60))
    contract_no: Mapped[str | None] = mapped_column(String(60))
    ship_date: Mapped[date | None] = mapped_column(Date)
    purchase_date: Mapped[date | None] = mapped_column(Date)
    amount_involved: Mapped[Decimal | None] = mapped_column(Money)          # 交货金额

    # Content
    content: Mapped[str] = mapped_column(Text)
    demand: Mapped[str | None] = mapped_column(String(16))                  # refund, exchange …
    demand_text: Mapped[str | None] = mapped_column(Text)
    amount_claimed: Mapped[Decimal | None] = mapped_column(Money)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    severity: Mapped[str] = mapped_column(String(10))
    severity_reasons: Mapped[list | None] = mapped_column(JSON)             # why it was forced to major
    safety_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    media_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitive_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    reputation_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    urgency: Mapped[str] = mapped_column(String(8), default="medium")
    sample_received: Mapped[bool] = mapped_column(Boolean, default=False)
    sample_location: Mapped[str | None] = mapped_column(String(120))

    # Who and where
    complained_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    complained_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    complained_person: Mapped[str | None] = mapped_column(String(60))       # when not a user
    receiving_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    first_responder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))  # immutable (§5)

    # Links
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))

    # Settled on the spot (§3.2)
    spot_action: Mapped[str | None] = mapped_column(Text)
    spot_accepted: Mapped[bool | None] = mapped_column(Boolean)

    # The closed loop (§3), written only by domain.workflow
    valid: Mapped[bool | None] = mapped_column(Boolean)                     # 投诉合理 / 不合理
    company_responsible: Mapped[bool | None] = mapped_column(Boolean)
    other_party: Mapped[str | None] = mapped_column(String(16))             # supplier/carrier/customer/other
    explanation: Mapped[str | None] = mapped_column(Text)                   # when not responsible
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    findings: Mapped[str | None] = mapped_column(Text)
    root_cause: Mapped[str | None] = mapped_column(Text)
    cause_category: Mapped[str | None] = mapped_column(String(12))          # 人/机/料/法/环/测
    proposal_kind: Mapped[str | None] = mapped_column(String(16))
    proposal_amount: Mapped[Decimal | None] = mapped_column(Money)
    proposal_text: Mapped[str | None] = mapped_column(Text)                 # what the customer is told
    approval_level: Mapped[str | None] = mapped_column(String(8))           # manager / head
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_method: Mapped[str | None] = mapped_column(String(16))
    answer_note: Mapped[str | None] = mapped_column(Text)
    customer_accepted: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)               # 1–5
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    failed_contacts: Mapped[int] = mapped_column(Integer, default=0)
    # Follow-up went badly (dissatisfied, or three failed calls): quality/manager must decide.
    needs_decision: Mapped[bool] = mapped_column(Boolean, default=False)
    close_reason: Mapped[str | None] = mapped_column(String(16))            # resolved/withdrawn/duplicate/no_contact/decided
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Responsibility confirmed (SPEC §6); approved complaints without it wait in quality's queue.
    attributed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Waiting for the customer (等待客户补充材料, SPEC §4.1): the running clocks are paused.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    # Kept for the accountability ledger (domain.ledger) by domain.clocks and workflow.act: the close
    # clock stopped by its deadline (None while it runs), the earliest deadline of the running,
    # unpaused clocks, and whole days from registration to closing (None while open).
    close_in_time: Mapped[bool | None] = mapped_column(Boolean)
    ticking_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    days_to_close: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()
    receiving_unit: Mapped[OrgUnit] = relationship(foreign_keys=[receiving_unit_id])
    complained_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[complained_unit_id])
    complained_user: Mapped[User | None] = relationship(foreign_keys=[complained_user_id])
    first_responder: Mapped[User] = relationship(foreign_keys=[first_responder_id])
    events: Mapped[list[ComplaintEvent]] = relationship(back_populates="complaint", order_by="ComplaintEvent.id")
    attachments: Mapped[list["Attachment"]] = relationship(order_by="Attachment.id")  # noqa: F821
    responsible_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[responsible_unit_id])
    investigator: Mapped[User | None] = relationship(foreign_keys=[investigator_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    actions: Mapped[list["CorrectiveAction"]] = relationship(back_populates="complaint",
                                                             order_by="CorrectiveAction.id")
    contacts: Mapped[list["CustomerContact"]] = relationship(order_by="CustomerContact.id")

    # Optimistic lock (§3): every UPDATE says "WHERE version = <what I read>" and bumps it, so a
    # concurrent change makes the later flush fail instead of overwriting.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class ComplaintEvent(db.Model):
    """Append-only timeline: who, when, from-stage, to-stage, what changed, comment."""
    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(32))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    changes: Mapped[dict | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer)   # the complaint's version after this event

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Assignment(db.Model):
    """Which department a complaint was given to, and when: handlers keep seeing complaints once
    assigned to their department (SPEC §1), even after a reassignment."""
    __tablename__ = "complaint_assignment"
    __table_args__ = (Index("ix_complaint_assignment_unit", "unit_id", "complaint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CorrectiveAction(db.Model):
    """纠正/预防措施: owner, due date, done, and quality's verdict (effective / ineffective / waived).
    Either a complaint's (verified in its 待验证 stage) or decided by the monthly meeting on one of its
    agenda items (meeting_item_id; the owner reports it done, quality verifies it: domain.meetings)."""
    __tablename__ = "corrective_action"
    # The meeting's open actions (owners' lists, quality's, the sweep's reminders): a few rows among a
    # complaint history's many.
    __table_args__ = (Index("ix_corrective_action_meeting_open", "due", "id",
                            sqlite_where=text("meeting_item_id IS NOT NULL AND verdict IS NULL"),
                            postgresql_where=text("meeting_item_id IS NOT NULL AND verdict IS NULL")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), index=True)
    meeting_item_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_item.id"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))               # corrective / preventive
    text: Mapped[str] = mapped_column(Text)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    owner_name: Mapped[str | None] = mapped_column(String(60))
    due: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str | None] = mapped_column(String(12))     # effective / ineffective / waived
    verdict_reason: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    complaint: Mapped[Complaint | None] = relationship(back_populates="actions")
    owner_unit: Mapped[OrgUnit | None] = relationship()
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    meeting_item: Mapped["MeetingItem | None"] = relationship(back_populates="actions")  # noqa: F821


class CustomerContact(db.Model):
    """A call or visit to the customer: first contact in the investigation, follow-up attempts."""
    __tablename__ = "customer_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    method: Mapped[str] = mapped_column(String(12))             # phone / visit / email / message
    reached: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(16), default="investigation")  # investigation / follow_up

    by: Mapped[User] = relationship()


class CustomerLink(db.Model):
    """A one-time link sent to the customer (SPEC §7: the survey and closure confirmation). Only the
    token's SHA-256 is stored; the token itself exists in the message alone. An expired or used
    link still names its complaint, so the customer can ask for a new one."""
    __tablename__ = "customer_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))            # survey
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship()


class StageCount(db.Model):
    """How many complaints are in each stage, kept by the same transactions that move them:
    the overview counts cost one row read instead of a scan of a million complaints."""
    __tablename__ = "stage_count"

    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class LedgerDay(db.Model):
    """The accountability ledger's counts (domain.ledger) per company-time day of registration,
    first responder, receiving unit and whole days to close (-1: not closed) — complaints of type
    complaint only. Kept by the transactions that change a complaint (workflow.act, intake through
    domain.clocks), so that a month of the ledger reads a few hundred rows."""
    __tablename__ = "ledger_day"
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    first_responder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    receiving_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    days_to_close: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    received: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    closed_in_time: Mapped[int] = mapped_column(Integer, default=0)
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction_sum: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction_n: Mapped[int] = mapped_column(Integer, default=0)


class Notification(db.Model):
    """In-app notice. Reminders and digests carry a `dedupe_key` (clock, level, recipient — or
    digest, day, recipient): its unique index is the ledger that makes each one go out once,
    however many sweeps overlap or re-run (SPEC §4.4). E-mail and robot copies are Outbox rows."""
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at", "id"),
                      # The sweep finds the reminders it just wrote (to add their e-mail copies).
                      Index("ix_notification_keyed_at", "at", sqlite_where=text("dedupe_key IS NOT NULL"),
                            postgresql_where=text("dedupe_key IS NOT NULL")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)

    complaint: Mapped[Complaint | None] = relationship()


class Attribution(db.Model):
    """Who answers for a valid, company-responsible complaint (SPEC §6, seed 001 六.1–2): the
    domain's proposal and what quality confirmed, with the reason when they differ."""
    __tablename__ = "attribution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))               # team, factory, individual, store, branch, department
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    proposed_kind: Mapped[str | None] = mapped_column(String(12))
    proposed_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    proposed_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship()
    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    confirmed_by: Mapped[User] = relationship(foreign_keys=[confirmed_by_id])


class ConcealmentReview(db.Model):
    """Quality's verdict on a complaint about a store that the store itself never recorded
    (seed 001 五.2: 瞒报、漏报): confirmed or dismissed, with a note."""
    __tablename__ = "concealment_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(10))           # confirmed, dismissed
    note: Mapped[str] = mapped_column(String(500))
    by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint] = relationship()
    store: Mapped[OrgUnit] = relationship()
    by: Mapped[User] = relationship()


class Penalty(db.Model):
    """A penalty (罚扣) for an attributed complaint (SPEC §6): proposed from the admin's table,
    possibly changed with a reason, approved by the manager, published when serious, and open to
    one appeal by the penalised unit's head. Every step is a PenaltyEvent; `version` is the
    optimistic lock, as on complaints."""
    __tablename__ = "penalty"
    __table_args__ = (Index("ix_penalty_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    severity: Mapped[str] = mapped_column(String(12))
    proposed_amount: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)
    basis: Mapped[dict | None] = mapped_column(JSON)             # base and surcharges applied
    reason: Mapped[str | None] = mapped_column(String(500))       # why the amount differs
    status: Mapped[str] = mapped_column(String(12), default="pending")   # pending, approved, rejected, published
    appeal: Mapped[str | None] = mapped_column(Text)
    appeal_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    appeal_decision: Mapped[str | None] = mapped_column(String(12))      # upheld, reduced, withdrawn
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    complaint: Mapped[Complaint] = relationship()
    unit: Mapped[OrgUnit] = relationship(foreign_keys=[unit_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    events: Mapped[list["PenaltyEvent"]] = relationship(order_by="PenaltyEvent.id", back_populates="penalty")


class PenaltyEvent(db.Model):
    __tablename__ = "penalty_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    penalty_id: Mapped[int] = mapped_column(ForeignKey("penalty.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    penalty: Mapped[Penalty] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()
