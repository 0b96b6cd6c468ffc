"""`flask` commands: init-db, seed-demo, create-user, calendar-import, half-year-summary, monthly-report."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from domain import accounts
from domain.errors import DomainError
from domain.orgtree import UnitKind, add_unit
from domain.roles import Role
from models import db, utcnow
from models.org import OrgUnit


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(db_revision)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(calendar_import)
    app.cli.add_command(half_year_summary)
    app.cli.add_command(monthly_report)


def alembic_config():
    """Alembic is imported only here: the web process never loads it (it costs ~12 MB RSS)."""
    from alembic.config import Config as AlembicConfig
    folder = Path(current_app.root_path) / "migrations"
    cfg = AlembicConfig(str(folder / "alembic.ini"))
    cfg.set_main_option("script_location", str(folder))
    return cfg


def upgrade_database() -> None:
    from alembic import command
    command.upgrade(alembic_config(), "head")


def _explain(err: DomainError) -> str:
    return err.message % err.params if err.params else err.message


@click.command("init-db")
def init_db():
    """Create or upgrade the database schema (Alembic migrations)."""
    upgrade_database()
    click.echo("数据库已是最新结构。")


@click.command("db-revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message):
    """For developers: write a new migration from the difference between models and database."""
    from alembic import command
    command.revision(alembic_config(), message=message, autogenerate=True)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when data already exists.")
def seed_demo(if_empty):
    """Load the demo company, its units, users and ~300 complaints (README lists the logins)."""
    from demo import seed
    if db.session.scalar(select(OrgUnit.id).limit(1)) is not None:
        if if_empty:
            click.echo("数据库里已有数据，跳过演示数据。")
            return
        raise click.ClickException("数据库里已有数据；演示数据只能装进空数据库。")
    from demo import seed_complaints
    summary = seed(db.session)
    db.session.flush()
    summary += f"，{seed_complaints(db.session, upload_root=current_app.config['UPLOAD_DIR'])} 条投诉"
    db.session.flush()
    # The half-year summary the scheduled job made in June (seed 001 三.4), so that page has one.
    from domain import halfyear
    from domain.settings import company_tz
    halfyear.generate(db.session, *halfyear.last_period(utcnow().astimezone(company_tz()).date()), utcnow())
    db.session.commit()
    click.echo(f"演示数据已载入：{summary}")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 张伟.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.option("--unit", "unit_name", help="Name of the org unit (default: the company).")
@click.option("--company", default="本公司", show_default=True,
              help="On an empty database: name of the company unit to create first.")
@click.option("--head", is_flag=True, help="Head of the unit.")
@click.option("--locale", default="zh_CN", type=click.Choice(list(accounts.LOCALES)))
@click.password_option(help="Prompted when not given (or set KESU_NEW_PASSWORD).", envvar="KESU_NEW_PASSWORD")
def create_user(username, display_name, roles, unit_name, company, head, locale, password):
    """Create a user (the first admin of a new installation, for instance)."""
    session = db.session
    try:
        if session.scalar(select(OrgUnit.id).limit(1)) is None:
            add_unit(session, None, name=company, kind=UnitKind.COMPANY, parent=None, now=utcnow())
            session.flush()
        if unit_name:
            units = session.scalars(select(OrgUnit).where(OrgUnit.name == unit_name, OrgUnit.active.is_(True))).all()
            if len(units) != 1:
                raise click.ClickException(
                    f"找不到唯一的启用单位“{unit_name}”（找到 {len(units)} 个）。")
            unit = units[0]
        else:
            unit = session.scalar(select(OrgUnit).where(OrgUnit.kind == UnitKind.COMPANY))
        user = accounts.create_user(session, None, username=username, display_name=display_name, unit=unit,
                                    roles=roles, is_head=head, locale=locale, password=password,
                                    must_change_password=False, now=utcnow())
    except DomainError as err:
        session.rollback()
        raise click.ClickException(_explain(err)) from None
    session.commit()
    click.echo(f"已创建用户 {user.username}（{unit.name}）。")


@click.command("calendar-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def calendar_import(path):
    """Import a year's official holiday arrangement (CSV: date,holiday|workday,name) for a year
    the chinese-calendar package does not cover yet."""
    from domain import clocks
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("文件须是 UTF-8 编码的 CSV。") from None
    try:
        done = clocks.import_calendar(db.session, None, text, utcnow())
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(_explain(err)) from None
    db.session.commit()
    click.echo(f"已导入 {done.year} 年的节假日安排：{done.days} 天。重新计算了 {done.recomputed} 个按估算的时限。")


@click.command("half-year-summary")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: the last half-year that has ended).")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
@click.option("--replace", is_flag=True, help="Recompute the figures of a report that exists.")
@click.option("--xlsx", type=click.Path(dir_okay=False, writable=True), help="Also write the Excel file here.")
def half_year_summary(start, last, replace, xlsx):
    """The half-year summary (seed 001: 6月和12月的前10日) for any period: made once per period
    and announced to the manager(s) and the market department when new."""
    from datetime import timedelta

    from domain import halfyear
    from domain.settings import company_tz
    now = utcnow()
    if (start is None) != (last is None):
        raise click.UsageError("--from 和 --to 须同时给出。")
    if start is None:
        begin, end = halfyear.last_period(now.astimezone(company_tz()).date())
    else:
        begin, end = start.date(), last.date() + timedelta(days=1)
    try:
        if replace:
            report, created = halfyear.generate(db.session, begin, end, now, replace=True)
            told = 0
        else:
            report, created, told = halfyear.make(db.session, begin, end, now)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(_explain(err)) from None
    db.session.commit()
    period = f"{begin.isoformat()} 至 {(end - timedelta(days=1)).isoformat()}"
    if created:
        click.echo(f"已生成 {period} 的半年汇总（#{report.id}），通知了 {told} 人。")
    else:
        click.echo(f"{period} 的半年汇总（#{report.id}）{'已重新计算' if replace else '已存在，未重复生成（--replace 可重新计算）'}。")
    if xlsx:
        Path(xlsx).write_bytes(halfyear.to_xlsx(report, labels=halfyear.labels()))
        click.echo(f"Excel：{xlsx}")



@click.command("monthly-report")
@click.option("--month", help="YYYY-MM (default: last month, company time).")
@click.option("--quiet", is_flag=True, help="Store it without telling anyone (filling in past months).")
def monthly_report(month, quiet):
    """The monthly report (SPEC §8) of a month: stored once and announced to the managers and
    quality when new (the scheduled job does last month's on the first working day)."""
    from domain import monthly
    from domain.settings import company_tz
    now = utcnow()
    month = month or monthly.months.name(monthly.months.last_month(now.astimezone(company_tz()).date()))
    try:
        report, created, told = monthly.make_month(db.session, month, now=now, announce_it=not quiet)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(_explain(err)) from None
    db.session.commit()
    if created:
        click.echo(f"已生成 {report.month} 的月度报告（#{report.id}），受理投诉 {report.data['total']} 条，通知了 {told} 人。")
    else:
        click.echo(f"{report.month} 的月度报告（#{report.id}）已存在，未重复生成。")
