from sqlalchemy import select

from models.complaint import Category


def test_migration_seeds_the_spec_default_categories(session):
    tops = session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.sort)).all()
    assert [c.name for c in tops] == ["产品质量", "交货", "运输包装", "仓储", "服务质量", "销售服务", "价格", "其他"]
    quality = tops[0]
    assert "异物" in [c.name for c in quality.children]
    # New rows get fresh ids after the seeded ones (the PostgreSQL sequence was moved on).
    extra = Category(name="测试类别", parent=quality, sort=99)
    session.add(extra)
    session.flush()
    assert extra.id > max(c.id for c in tops)
