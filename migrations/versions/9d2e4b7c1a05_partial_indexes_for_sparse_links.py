"""partial indexes for sparse links (repeat/duplicate/complained-against)

Revision ID: 9d2e4b7c1a05
Revises: 5afa6c804b27
Create Date: 2026-11-25 17:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9d2e4b7c1a05'
down_revision = '5afa6c804b27'
branch_labels = None
depends_on = None

COLUMNS = ("repeat_of_id", "duplicate_of_id", "complained_unit_id", "complained_user_id")


def upgrade():
    for name in COLUMNS:
        op.drop_index(f"ix_complaint_{name}", table_name="complaint")
        op.create_index(f"ix_complaint_{name}", "complaint", [name], unique=False,
                        sqlite_where=sa.text(f"{name} IS NOT NULL"), postgresql_where=sa.text(f"{name} IS NOT NULL"))


def downgrade():
    for name in COLUMNS:
        op.drop_index(f"ix_complaint_{name}", table_name="complaint")
        op.create_index(f"ix_complaint_{name}", "complaint", [name], unique=False)
