"""`alembic upgrade head` on an empty database gives exactly the models' schema."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from models import Base, db


def test_migrations_match_the_models(app):
    # The session database was built by `upgrade()` (conftest.database_url), not create_all.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff


def test_every_table_is_in_the_migrated_database(app):
    from sqlalchemy import inspect
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
