"""Alembic environment. Runs inside the Flask app context (`flask init-db`, `flask db-revision`,
the tests), on the app's own engine, so SQLite and PostgreSQL take the same path."""
from logging.config import fileConfig

from alembic import context
from flask import current_app

from models import Base, UTCDateTime, db

config = context.config
if config.config_file_name:
    # Keep the app's loggers working (the default would disable every existing logger).
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def render_item(type_, obj, autogen_context):
    """Render our UTCDateTime as a plain DateTime: migrations must not import the app's models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def process_revision_directives(context_, revision, directives):
    # `flask db-revision` (always autogenerate) writes nothing when models and database agree.
    if directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_online():
    assert current_app, "run migrations through `flask init-db`"
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,  # SQLite can only ALTER through table copies
            compare_type=True,
            render_item=render_item,
            process_revision_directives=process_revision_directives,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; use `flask init-db`.")
run_migrations_online()
