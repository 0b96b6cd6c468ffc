"""Demo data (SPEC §11): a believable company that every page and report can show.

Built through the same domain functions as real use, so it is valid by construction.
The fixed logins are documented in the README; all use the password DEMO_PASSWORD.
"""
from __future__ import annotations

from domain import accounts
from domain.orgtree import UnitKind, add_unit
from domain.roles import Role

DEMO_PASSWORD = "demo12345"
COMPANY = "鑫源食品股份有限公司"

DEPARTMENTS = ["总经理办公室", "销售部", "市场部", "客服中心", "品管部", "生产部", "仓储物流部", "技术部", "研发部"]
BRANCHES = {
    "上海分公司": ["上海徐汇店", "上海浦东店", "上海静安店"],
    "杭州分公司": ["杭州西湖店", "杭州滨江店", "杭州萧山店"],
    "南京分公司": ["南京新街口店", "南京河西店"],
}
FACTORIES = {
    "嘉兴食品厂": ["原料班", "加工一班", "包装班"],
    "昆山食品厂": ["原料班", "烘焙班", "包装班"],
}

R, H, Q, M, A = Role.RECEIVER, Role.HANDLER, Role.QUALITY, Role.MANAGER, Role.ADMIN

# (username, display name, unit path, roles, head of unit)
USERS = [
    ("admin", "周磊", "技术部", [A], False),
    ("manager", "王建国", "总经理办公室", [M], True),
    ("vp", "孙海涛", "总经理办公室", [M], False),
    ("quality", "李静", "品管部", [Q], False),
    ("quality2", "吴芳", "品管部", [Q], True),
    ("handler", "张伟", "销售部", [H], True),
    ("sales2", "曹阳", "销售部", [H], False),
    ("handler2", "刘洋", "生产部", [H], False),
    ("prod_head", "郑强", "生产部", [H], True),
    ("market_head", "何丽", "市场部", [H], True),
    ("market", "马超", "市场部", [H], False),
    ("logistics_head", "胡军", "仓储物流部", [H], True),
    ("tech", "高峰", "技术部", [H], True),
    ("rd", "林晓", "研发部", [H], True),
    ("cs_head", "许倩", "客服中心", [R, H], True),
    ("cs1", "韩雪", "客服中心", [R], False),
    ("cs2", "冯佳", "客服中心", [R], False),
    ("sh_head", "钱进", "上海分公司", [R, H], True),
    ("hz_head", "沈涛", "杭州分公司", [R, H], True),
    ("nj_head", "陆明", "南京分公司", [R, H], True),
    ("receiver", "陈晓", "上海分公司/上海徐汇店", [R], False),
    ("xh_head", "杨帆", "上海分公司/上海徐汇店", [R], True),
    ("pd_clerk", "黄蕾", "上海分公司/上海浦东店", [R], False),
    ("ja_clerk", "朱琳", "上海分公司/上海静安店", [R], False),
    ("receiver2", "赵敏", "杭州分公司/杭州西湖店", [R], False),
    ("bj_clerk", "邵伟", "杭州分公司/杭州滨江店", [R], False),
    ("xs_clerk", "罗娟", "杭州分公司/杭州萧山店", [R], False),
    ("xjk_clerk", "唐宁", "南京分公司/南京新街口店", [R], False),
    ("hx_clerk", "袁野", "南京分公司/南京河西店", [R], False),
    ("jx_head", "蒋国栋", "嘉兴食品厂", [H], True),
    ("jx_team", "谢勇", "嘉兴食品厂/加工一班", [H], True),
    ("ks_head", "韦华", "昆山食品厂", [H], True),
]


def seed(session) -> str:
    units = {}
    company = add_unit(session, None, name=COMPANY, kind=UnitKind.COMPANY, parent=None)
    for name in DEPARTMENTS:
        units[name] = add_unit(session, None, name=name, kind=UnitKind.DEPARTMENT, parent=company)
    for branch, stores in BRANCHES.items():
        units[branch] = b = add_unit(session, None, name=branch, kind=UnitKind.BRANCH, parent=company)
        for store in stores:
            units[f"{branch}/{store}"] = add_unit(session, None, name=store, kind=UnitKind.STORE, parent=b)
    for factory, teams in FACTORIES.items():
        units[factory] = f = add_unit(session, None, name=factory, kind=UnitKind.FACTORY, parent=company)
        for team in teams:
            units[f"{factory}/{team}"] = add_unit(session, None, name=team, kind=UnitKind.TEAM, parent=f)
    for username, name, unit, roles, head in USERS:
        accounts.create_user(session, None, username=username, display_name=name, unit=units[unit],
                             roles=roles, is_head=head, password=DEMO_PASSWORD, must_change_password=False)
    return f"{len(units) + 1} 个单位，{len(USERS)} 个用户"
