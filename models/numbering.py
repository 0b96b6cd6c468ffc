"""Counter rows for gapless complaint numbers (SPEC §2): one row per month."""
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db


class NumberCounter(db.Model):
    __tablename__ = "number_counter"

    # e.g. "TS-202611": prefix and month in the company time zone
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
