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


def seed(session, now=None) -> str:
    from models import utcnow
    now = now or utcnow()
    units = {}
    company = add_unit(session, None, name=COMPANY, kind=UnitKind.COMPANY, parent=None, now=now)
    for name in DEPARTMENTS:
        units[name] = add_unit(session, None, name=name, kind=UnitKind.DEPARTMENT, parent=company, now=now)
    for branch, stores in BRANCHES.items():
        units[branch] = b = add_unit(session, None, name=branch, kind=UnitKind.BRANCH, parent=company, now=now)
        for store in stores:
            units[f"{branch}/{store}"] = add_unit(session, None, name=store, kind=UnitKind.STORE, parent=b, now=now)
    for factory, teams in FACTORIES.items():
        units[factory] = f = add_unit(session, None, name=factory, kind=UnitKind.FACTORY, parent=company, now=now)
        for team in teams:
            units[f"{factory}/{team}"] = add_unit(session, None, name=team, kind=UnitKind.TEAM, parent=f, now=now)
    for username, name, unit, roles, head in USERS:
        accounts.create_user(session, None, username=username, display_name=name, unit=units[unit],
                             roles=roles, is_head=head, password=DEMO_PASSWORD, must_change_password=False,
                             now=now)
    return f"{len(units) + 1} 个单位，{len(USERS)} 个用户"


# --- complaints (SPEC §11: ~300 over 14 months) ----------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
TITLES = ["女士", "先生", "阿姨", "小姐"]
PRODUCTS = ["五仁月饼 500g", "蛋黄酥礼盒", "鲜肉月饼", "绿豆糕", "凤梨酥 8 枚装", "全麦吐司", "奶油蛋糕 6 寸",
            "肉松小贝", "桃酥", "蝴蝶酥", "粽子礼盒", "青团", "芝士蛋糕", "牛角面包", "红豆面包"]
# (sub-category, what happened, demand, severity, safety)
CASES = [
    ("异物", "打开{p}后发现里面有一根头发，孩子差点吃下去。", "refund", "general", False),
    ("异物", "{p}里吃出一小块塑料片，嘴巴被划了一下。", "compensation", "serious", True),
    ("变质/过期", "昨天在店里买的{p}，回家打开有酸味，看生产日期才做了两天。", "refund", "general", False),
    ("变质/过期", "{p}已经过了保质期还在货架上卖，买回家才发现。", "refund", "general", False),
    ("变质/过期", "吃了{p}后全家三口人都拉肚子，去医院挂了急诊。", "compensation", "major", True),
    ("口味异常", "{p}这次吃起来特别咸，跟以前买的不一样。", "exchange", "minor", False),
    ("规格/重量不符", "{p}标的是 500 克，回家称了只有 430 克左右。", "explanation", "general", False),
    ("错发/漏发", "网上订的{p}少送了两盒，打客服电话一直没人接。", "other", "general", False),
    ("延迟交货", "订的生日{p}约好上午十点送到，下午两点才送来，生日会都结束了。", "compensation", "serious", False),
    ("包装破损", "{p}外包装盒压坏了，里面的点心也碎了，是送礼用的。", "exchange", "minor", False),
    ("服务态度", "店员态度很差，问她{p}的配料，她说自己看，还翻白眼。", "apology", "general", False),
    ("等候时间", "周末排队买{p}等了四十多分钟，只开了一个收银台。", "explanation", "minor", False),
    ("承诺未兑现", "上次说{p}到货会打电话通知我，一直没有人通知，白跑了两趟。", "apology", "minor", False),
    ("价格不符", "{p}价签写的是 38 元，结账收了 45 元。", "refund", "minor", False),
    ("收费争议", "会员积分兑换{p}被多扣了积分，店里说系统问题没办法。", "explanation", "general", False),
    ("退换货", "{p}没拆封想退，店里说食品一律不退不换。", "return", "general", False),
    ("误导销售", "店员说{p}无糖，回家看配料表有白砂糖，家里老人有糖尿病。", "refund", "serious", False),
    ("其他", "门店门口台阶太滑，雨天进店买{p}时差点摔倒。", "explanation", "general", False),
]
SPOT_ACTIONS = ["当场为顾客更换了一份新的{p}，并致歉。", "按价签退还差价 7 元，并向顾客道歉。",
                "当场致歉并赠送一份小点心，顾客表示理解。"]


def seed_complaints(session, count: int = 300, *, now=None, seed: int = 2026, upload_root=None) -> int:
    """~`count` complaints over the last 14 months, registered through domain.intake, plus the
    showcase cases (every channel, a paused, a withdrawn and a duplicate complaint, photos —
    these only with `upload_root`, where the files are kept)."""
    import random
    from datetime import timedelta

    from sqlalchemy import select

    from domain import intake
    from domain.settings import company_tz
    from models import utcnow
    from models.complaint import Category
    from models.user import User, UserRole

    rng = random.Random(seed)
    now = now or utcnow()
    tz = company_tz()
    clerks = session.scalars(select(User).join(UserRole).where(UserRole.role == Role.RECEIVER.value)
                             .order_by(User.username)).all()
    categories = {c.name: c.id for c in session.scalars(select(Category))}
    from models.org import OrgUnit
    stores = list(session.scalars(select(OrgUnit.id).where(OrgUnit.kind == "store").order_by(OrgUnit.id)))
    # Older complaints first, so that numbers run in time order within each month.
    moments = sorted(now - timedelta(days=rng.uniform(0, 425), minutes=rng.randint(0, 600)) for _ in range(count))
    phones: list[tuple[str, int, object]] = []
    made = 0
    for i, when in enumerate(moments):
        clerk = rng.choice(clerks)
        sub, text, demand, severity, safety = rng.choice(CASES)
        product = rng.choice(PRODUCTS)
        name = rng.choice(SURNAMES) + rng.choice(TITLES)
        repeat_of = None
        if phones and rng.random() < 0.06:
            phone, repeat_of, clerk = rng.choice(phones)  # the customer comes back to the same clerk
        else:
            phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        spot = None
        if severity == "minor" and rng.random() < 0.5:
            spot = rng.choice(SPOT_ACTIONS).format(p=product)
        claimed = None
        if demand in ("refund", "compensation"):
            claimed = rng.choice([25, 38, 68, 128, 200, 500, 1200])
        extra = {"product_name": product}
        if rng.random() < 0.4:
            extra.update(batch_no=f"{when:%Y%m%d}-{rng.randint(1, 3)}", purchase_date=(when - timedelta(days=rng.randint(0, 5))).date())
        if repeat_of:
            extra["repeat_of_id"] = repeat_of
        channel = "walk_in" if clerk.org_unit.kind == "store" else rng.choice(["phone", "hotline", "web", "social"])
        if clerk.org_unit.kind != "store" and rng.random() < 0.3:
            # a caller complains about a store (seed 001 五.2: the store audit checks it recorded them)
            extra["complained_unit_id"] = rng.choice(stores)
        kind = "complaint" if rng.random() < 0.9 else rng.choice(["inquiry", "suggestion"])
        data = intake.IntakeData(
            customer_name=name, customer_phone=phone, content=text.format(p=product), category_id=categories[sub],
            severity=severity, channel=channel, demand=demand, amount_claimed=claimed, safety=safety,
            media=severity == "major" and rng.random() < 0.3,
            urgency="high" if severity in ("serious", "major") else "low" if severity == "minor" and rng.random() < 0.5
            else "medium",
            spot_action=spot if kind == "complaint" else None, spot_accepted=bool(spot), extra=extra, type=kind)
        result = intake.register(session, clerk, data, now=when, tz=tz, token=f"demo-{seed}-{i}")
        phones.append((phone, result.complaint.id, clerk))
        made += 1
    advance_complaints(session, rng, now)
    # One walk-in complaint that nobody dispatched: its 24-hour clocks fall due just as the demo
    # starts, so the first sweep (within a minute of `make run`) reminds quality, its head and
    # the clerk — once.
    clerk = session.scalar(select(User).where(User.username == "receiver"))
    late = intake.IntakeData(
        customer_name="郑先生", customer_phone="13916002024", content="买的鲜肉月饼打开发现馅料发酸，已经拍照留存。",
        category_id=categories["变质/过期"], severity="general", channel="walk_in", demand="refund",
        amount_claimed=68, extra={"product_name": "鲜肉月饼"})
    intake.register(session, clerk, late, now=now - timedelta(hours=24, seconds=30), tz=tz, token=f"demo-{seed}-late")
    made += 1
    made += showcase(session, now, tz, upload_root)
    meeting_showcase(session, now, tz)
    # The history's reminders went out long ago: sent and read (the bell shows what is fresh).
    from sqlalchemy import update

    from domain import reminders
    from models.complaint import Notification
    reminders.sweep(session, now - timedelta(minutes=2))
    session.execute(update(Notification).where(Notification.dedupe_key.is_not(None)).values(read_at=now))
    session.flush()
    return made


def meeting_showcase(session, now, tz) -> None:
    """Last month's complaint meeting (SPEC §3.5), issued: its agenda concluded, an action for 生产部's
    handler2 due next week; quality and handler2 have signed, the manager's signature is one tap
    away on their home page."""
    from datetime import timedelta

    from sqlalchemy import select

    from domain import meetings
    from domain.monthly import months
    from models.user import User
    users = {u.username: u for u in session.scalars(select(User))}
    q = users["quality"]
    month = months.name(months.last_month(now.astimezone(tz).date()))
    m, _new = meetings.open_meeting(session, q, month, now=now)

    def do(who, name, **values):
        return meetings.act(session, who, m, name, meetings.STEPS[name].fields(**values),
                            version=None if name == "sign" else m.version, now=now)
    do(q, "details", title=meetings.title_for(month), held_on=now.astimezone(tz).date(), place="总部三楼会议室",
       attendees=tuple(users[n].id for n in ("quality", "manager", "handler2", "prod_head", "handler")))
    if not m.items:
        do(q, "add_item", title="门店试吃台卫生检查")
    for item in m.items:
        do(q, "conclude", item_id=item.id, conclusion="原因已查明：按会上确定的措施整改，品管跟踪验证。")
    do(q, "add_action", item_id=m.items[0].id, kind="preventive", text="生产线加装金属探测仪，每班开机前点检并记录。",
       owner_user_id=users["handler2"].id, owner_unit_id=users["handler2"].org_unit_id,
       due=now.astimezone(tz).date() + timedelta(days=7))
    do(q, "issue")
    do(q, "sign", part=0)
    do(users["handler2"], "sign", part=0)


# Which department handles what (demo): (department, investigator, head)
ROUTES = {"产品质量": ("生产部", "handler2", "prod_head"), "服务质量": ("销售部", "sales2", "handler"),
          "销售服务": ("销售部", "sales2", "handler"), "价格": ("市场部", "market", "market_head"),
          "交货": ("销售部", "sales2", "handler"), "运输包装": ("仓储物流部", None, "logistics_head"),
          "仓储": ("仓储物流部", None, "logistics_head"), "其他": ("客服中心", None, "cs_head")}
ROOT_CAUSES = {"man": "当班员工未按操作规程执行。", "machine": "包装机封口温度不稳定，部分袋子没有封严。",
               "material": "供应商来料批次不合格，进厂检验漏检。", "method": "门店价签核对流程缺少复核环节。",
               "environment": "仓库温湿度超出储存要求。", "measurement": "出厂称重设备未按期校准。"}
ANSWERS = {"refund": "向您致歉，退还货款 {amount} 元，3 个工作日内原路退回。", "exchange": "向您致歉，为您更换同款新品，可到店或送货上门。",
           "return": "向您致歉，为您办理退货并全额退款。", "repair": "向您致歉，免费为您维修。",
           "compensation": "向您致歉，赔偿 {amount} 元，并已对相关环节整改。", "apology": "当面向您致歉，说明原因和我们的整改措施。",
           "other": "向您致歉，补发缺少的商品，并赠送一份小点心。"}
STEPS = ["dispatch", "propose", "approve", "answer", "verify", "survey"]


def advance_complaints(session, rng, now) -> dict[str, int]:
    """Move the demo complaints along the closed loop with the same domain functions as the
    screens: old ones mostly closed, recent ones spread over every stage."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from domain import workflow
    from models.complaint import Complaint
    from models.org import OrgUnit
    from models.user import User

    users = {u.username: u for u in session.scalars(select(User))}
    units = {u.name: u for u in session.scalars(select(OrgUnit))}

    def do(username, c, action, at, **fields):
        workflow.act(session, users[username], c, action, workflow.command(action, **fields), version=c.version, now=at)

    for c in session.scalars(select(Complaint).where(Complaint.stage == "new").order_by(Complaint.id)):
        age = (now - c.created_at).days
        depth = 7 if age > 60 and rng.random() < 0.88 else rng.randint(0, 7) if age > 20 else rng.randint(0, 4)
        at = c.created_at + timedelta(hours=rng.randint(2, 20))
        if c.type != "complaint":
            if depth >= 1:
                if c.type == "inquiry":
                    do("quality", c, "answer_inquiry", at, method="phone", note="已答复顾客")
                else:
                    do("quality", c, "acknowledge", at, note="已答复顾客")
            if depth >= 3:
                do("quality", c, "close_short", at + timedelta(days=1))
            continue
        top = c.category.parent.name if c.category.parent else c.category.name
        dept, investigator, head = ROUTES.get(top, ROUTES["其他"])
        if depth == 0:
            continue
        if rng.random() < 0.08:   # not the company's fault: explained and followed up
            do("quality", c, "not_responsible", at, valid=rng.random() < 0.6, other_party="carrier",
               explanation="经核实为运输途中损坏，已协助顾客向快递公司索赔。")
            if depth >= 5:
                do(c.first_responder.username, c, "survey", at + timedelta(days=2), score=rng.choice([3, 4, 4, 5]))
            continue
        do("quality", c, "dispatch", at, unit_id=units[dept].id,
           investigator_id=users[investigator].id if investigator else None)
        if depth == 1:
            continue
        worker = investigator or head
        at += timedelta(hours=rng.randint(4, 30))
        if rng.random() < 0.5:
            do(worker, c, "add_action", at, kind=rng.choice(["corrective", "preventive"]),
               text=rng.choice(["对当班员工进行操作规程培训", "增加出厂前抽检频次", "更换破损的发网和工作帽",
                                "调整门店价签核对流程", "与承运商约定包装加固标准"]),
               owner_unit_id=units[dept].id, due=max(at.date(), date.today()) + timedelta(days=rng.randint(5, 30)))
        kind = c.demand if c.demand in workflow.PROPOSAL_KINDS else "apology"
        amount = c.amount_claimed if kind in ("refund", "compensation") else None
        cause, root_cause = rng.choice(list(ROOT_CAUSES.items()))
        money = str(amount or 50) if kind in ("refund", "compensation") else None
        proposal = dict(findings="已联系顾客并核实批次记录，情况属实。", root_cause=root_cause,
                        cause_category=cause, kind=kind, amount=money, text=ANSWERS[kind].format(amount=money))
        do(worker, c, "propose", at, **proposal)
        if depth == 2:
            continue
        at += timedelta(hours=rng.randint(1, 20))
        approver = "manager" if c.approval_level == "manager" or worker == head else head
        if rng.random() < 0.1:
            do(approver, c, "reject", at, comment="请再与顾客沟通，确认顾客的实际损失。")
            do(worker, c, "propose", at + timedelta(hours=3), **proposal)
            at += timedelta(hours=5)
        do(approver, c, "approve", at)
        if depth == 3:
            continue
        at += timedelta(hours=rng.randint(2, 30))
        do(worker, c, "answer", at, method=rng.choice(["phone", "visit"]), accepted=True)
        if depth == 4:
            continue
        at += timedelta(days=rng.randint(1, 10))
        if c.stage == "verifying":
            do("quality", c, "verify", at, verdicts={a.id: ("effective", "") for a in c.actions})
        if depth == 5:
            continue
        at += timedelta(days=1)
        score = rng.choice([5, 5, 4, 4, 4, 3, 2])
        do(c.first_responder.username, c, "survey", at, score=score, comment="顾客表示满意" if score >= 3 else "顾客仍不满意")
        if score <= 2 and depth >= 7:
            do("quality", c, "close", at + timedelta(days=1), note="已按规定处理，顾客意见记录在案。")
    # Quality confirms the responsibility of most approved complaints (the newest still wait).
    from domain import attribution
    for c in session.scalars(select(Complaint).where(Complaint.approved_at.is_not(None))
                             .order_by(Complaint.approved_at)).all():
        p = attribution.propose(c)
        if p is None or p.unit_id is None or (now - c.approved_at).days < 7 or rng.random() < 0.15:
            continue
        when = min(c.events[-1].at + timedelta(hours=2), now)    # after the last step, in order
        do("quality", c, "attribute", when, kind=p.kind, unit_id=p.unit_id, user_id=p.user_id)
    # Penalties in every state (SPEC §6): pending, rejected, approved, published; one appeal.
    from domain import penalties
    decided = []
    for c in session.scalars(select(Complaint).where(Complaint.attributed.is_(True))
                             .order_by(Complaint.approved_at)).all():
        if rng.random() < 0.4:
            continue
        when = min(c.events[-1].at + timedelta(hours=3), now)
        p = penalties.act(session, users["quality"], c, "propose", version=None, now=when)
        roll = rng.random()
        if roll < 0.5 and (now - when).days < 30:
            continue                                                   # still waiting for the manager
        if roll < 0.12:
            penalties.act(session, users["manager"], c, "reject", penalties.STEPS["reject"].fields(
                comment="责任证据不足，不予罚扣"), version=p.version, now=when)
        else:
            penalties.act(session, users["manager"], c, "approve", version=p.version, now=when)
            decided.append(p)
    heads = [u for u in users.values() if u.is_head and u.active]
    for p in reversed(decided):                                        # the latest one a head can appeal
        head = next((u for u in heads if penalties.concerns(session, u, p)), None)
        if head is not None:
            penalties.act(session, head, p.complaint, "appeal", penalties.STEPS["appeal"].fields(
                appeal="本单位已整改，且顾客已接受赔偿，请求减免。"), version=p.version, now=now)
            break
    # Settled on the spot: the follow-up call, a few days later.
    for c in session.scalars(select(Complaint).where(Complaint.stage == "follow_up", Complaint.spot_accepted.is_(True))):
        if (now - c.created_at).days > 5:
            do(c.first_responder.username, c, "survey", c.created_at + timedelta(days=3), score=rng.choice([4, 5, 5]))
    # Notices older than a week have been read by now (the bell shows what is fresh).
    from sqlalchemy import update as sql_update

    from models.complaint import Notification
    session.execute(sql_update(Notification).where(Notification.at < now - timedelta(days=7))
                    .values(read_at=now))
    session.flush()
    from domain import queues
    return queues.stage_counts(session)


# --- the showcase: what random history may miss, so that every screen has an example ------------

def photo(seed: int) -> bytes:
    """A JPEG that looks like a photo of a pastry on a counter, with a dark speck on it."""
    import io
    import random

    from PIL import Image, ImageDraw, ImageFilter
    rng = random.Random(seed)
    img = Image.new("RGB", (1200, 900), (214, 204, 186))
    draw = ImageDraw.Draw(img)
    for y in range(0, 900, 6):   # the counter's grain
        shade = rng.randint(-12, 12)
        draw.line([(0, y), (1200, y + rng.randint(-4, 4))], fill=(200 + shade, 188 + shade, 168 + shade), width=3)
    cx, cy, r = 600 + rng.randint(-80, 80), 450 + rng.randint(-60, 60), rng.randint(260, 320)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(196, 132, 62), outline=(150, 92, 40), width=14)
    draw.ellipse([cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2], outline=(170, 108, 48), width=10)
    sx, sy = cx + rng.randint(-r // 2, r // 2), cy + rng.randint(-r // 2, r // 2)
    draw.line([(sx, sy), (sx + 90, sy + 40)], fill=(30, 24, 20), width=4)    # a hair
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82)
    return out.getvalue()


def showcase(session, now, tz, upload_root=None) -> int:
    """Complaints the random history may not produce: one per channel the history leaves out,
    a paused one, a withdrawn one, a duplicate, and walk-in complaints with photos."""
    import io
    from datetime import timedelta

    from sqlalchemy import select

    from domain import attachments, intake, workflow
    from models.complaint import Category
    from models.org import OrgUnit
    from models.user import User

    users = {u.username: u for u in session.scalars(select(User))}
    categories = {c.name: c.id for c in session.scalars(select(Category))}
    units = {u.name: u for u in session.scalars(select(OrgUnit))}

    def new(username, hours_ago, name, phone, content, category, *, channel="phone", token=None, **more):
        data = intake.IntakeData(customer_name=name, customer_phone=phone, content=content,
                                 category_id=categories[category], channel=channel, **more)
        return intake.register(session, users[username], data, now=now - timedelta(hours=hours_ago), tz=tz,
                               token=token).complaint

    def do(username, c, action, hours_ago, **fields):
        workflow.act(session, users[username], c, action, workflow.command(action, **fields), version=c.version,
                     now=now - timedelta(hours=hours_ago))

    from domain import replies
    replies.seed_defaults(session, None, now=now)   # the starter reply templates
    made = []
    # Channels the random history does not use (it has walk-in, phone, hotline, web, social).
    made.append(new("cs1", 50, "欧阳女士", "13801230001", "发邮件反映：网购的凤梨酥礼盒里有两枚包装漏气，饼皮发软。",
                    "包装破损", channel="email", customer_email="ouyang@example.com", demand="exchange",
                    extra={"product_name": "凤梨酥 8 枚装"}))
    made.append(new("cs2", 75, "钟先生", "02165430002", "来信反映：门店营业时间与网上公布的不一致，两次到店都没开门。",
                    "其他", channel="letter", urgency="low", demand="explanation"))
    made.append(new("ja_clerk", 30, "柏女士", "13801230003", "意见簿留言：希望增加无糖系列的品种。", "其他",
                    channel="comment_book", type="suggestion", urgency="low"))
    made.append(new("cs1", 20, "高女士", "13801230004", "在展会试吃时发现试吃盘没有遮盖，有苍蝇。", "其他",
                    channel="other", demand="apology"))
    do("ja_clerk", made[2], "acknowledge", 28, note="感谢建议，已转研发部评估无糖系列。")
    for c in (made[0], made[3]):
        do("quality", c, "dispatch", 2, unit_id=units["客服中心"].id)
    # Waiting for the customer (§4.1): the clocks stand still.
    paused = new("pd_clerk", 40, "孟女士", "13801230005", "买的芝士蛋糕有一股异味，要求退款。", "变质/过期",
                 channel="walk_in", demand="refund", amount_claimed="88", extra={"product_name": "芝士蛋糕"})
    do("quality", paused, "dispatch", 36, unit_id=units["生产部"].id, investigator_id=users["handler2"].id)
    do("handler2", paused, "pause", 30, reason="等顾客提供购物小票照片和剩余样品")
    made.append(paused)
    # Withdrawn by the customer.
    gone = new("receiver", 28, "蔡先生", "13801230006", "蛋黄酥礼盒少了一枚。", "错发/漏发", channel="walk_in",
               demand="other", extra={"product_name": "蛋黄酥礼盒"})
    do("receiver", gone, "withdraw", 26, reason="顾客回家后找到了那一枚（掉在袋子里），撤回投诉。")
    made.append(gone)
    # The same call registered twice.
    first = new("cs2", 10, "潘女士", "13801230007", "热线来电：订的生日蛋糕晚送了两小时。", "延迟交货",
                channel="hotline", demand="compensation", amount_claimed="100", urgency="high")
    again = new("cs1", 9, "潘女士", "13801230007", "顾客再次来电催问：生日蛋糕晚送两小时的投诉。", "延迟交货",
                channel="hotline", demand="compensation", amount_claimed="100")
    do("quality", again, "mark_duplicate", 8, duplicate_of=first.number, reason="同一件事的第二个来电。")
    made += [first, again]
    # An inquiry the clerk could not answer, transferred to the department that can (seed 003).
    asked = new("receiver2", 5, "韩先生", "13801230010", "想订 200 盒中秋礼盒做员工福利，能否开增值税专用发票、几天能交货？",
                "其他", channel="walk_in", type="inquiry")
    do("receiver2", asked, "transfer_inquiry", 4, unit_id=units["销售部"].id, investigator_id=users["sales2"].id)
    made.append(asked)
    # A phone number taken down wrong at the counter, corrected with a reason (old → new on the timeline).
    fixed = new("xh_head", 12, "龚女士", "13801230011", "蝴蝶酥袋子里有一块碎玻璃，幸好没吃到。", "异物", channel="walk_in",
                demand="compensation", safety=True, extra={"product_name": "蝴蝶酥"})
    do("xh_head", fixed, "correct", 11, customer_phone="13801230012", reason="登记时电话号码记错一位，已与顾客核对。")
    made.append(fixed)
    # Walk-in complaints with photos, as the store's tablet sends them.
    if upload_root is not None:
        from pathlib import Path
        for i, (name, phone, hours) in enumerate((("严女士", "13801230008", 6), ("季先生", "13801230009", 3))):
            token = f"demo-photo-{i}"
            for j in range(2):
                attachments.store(session, Path(upload_root), users["receiver"], io.BytesIO(photo(i * 10 + j)),
                                  f"IMG_20{i}{j}.jpg", token, now=now - timedelta(hours=hours))
            made.append(new("receiver", hours, name, phone, "月饼里吃出一根头发，已拍照（见照片）。", "异物",
                            channel="walk_in", demand="refund", amount_claimed="58", token=token,
                            extra={"product_name": "五仁月饼 500g", "sample_received": True,
                                   "sample_location": "店内冷柜留样"}))
    return len(made) + customer_showcase(session, now, tz, users, units, categories, new, do, upload_root)


def customer_showcase(session, now, tz, users, units, categories, new, do, upload_root=None) -> int:
    """The customer's side (SPEC §7): the public pages switched on with 客服中心's 韩雪 receiving online
    complaints; two complaints the customers sent themselves (one with a photo, one they added to
    while the handler waited for them), and one the customer rated and closed through the survey
    link (谁投诉谁关闭)."""
    import io
    from datetime import timedelta

    from domain.portal import config, links, online, steps
    from domain.workflow.customer import Customer

    config.set_portal_config(session, users["admin"], enabled=True, company_name="鑫源食品", intro=config.DEFAULT_INTRO,
                             privacy=config.DEFAULT_PRIVACY, link_days=7, receiver_id=users["cs1"].id,
                             hotline="400-820-1234", now=now)
    token = "demo-online-0"
    if upload_root is not None:
        from pathlib import Path
        from domain import attachments
        attachments.store(session, Path(upload_root), Customer(None), io.BytesIO(photo(40)), "微信图片_1.jpg",
                          token, now=now - timedelta(hours=8))
    first = online.register_online(session, online.OnlineComplaint(
        customer_name="卫女士", customer_phone="13801230013", customer_email="wei@example.com",
        content="网上订的月饼礼盒送到时外盒压坏了，里面有两个月饼碎了。", demand="exchange", order_no="JD20261130001",
        product_name="花好月圆礼盒", privacy_consent=True, contact_consent=True),
        now=now - timedelta(hours=8), tz=tz, token=token).complaint
    second = online.register_online(session, online.OnlineComplaint(
        customer_name="姜先生", customer_phone="13801230014", content="在上海静安店买的面包，回家发现已经过了保质期。",
        demand="refund", store_id=units["上海静安店"].id, product_name="全麦吐司", privacy_consent=True,
        contact_consent=True), now=now - timedelta(hours=30), tz=tz, token="demo-online-1").complaint
    do("quality", second, "dispatch", 28, unit_id=units["生产部"].id, investigator_id=users["handler2"].id)
    do("handler2", second, "pause", 26, reason="请顾客提供购物小票和生产日期照片")
    steps.add_information(session, second, text="小票找到了，11 月 28 日下午买的，生产日期是 11 月 20 日。",
                          upload_token=None, now=now - timedelta(hours=20))
    rated = new("receiver", 70, "苏女士", "13801230015", "买的蛋黄酥有一股哈喇味。", "变质/过期", channel="walk_in",
                demand="refund", customer_email="su@example.com", contact_consent=True,
                extra={"product_name": "蛋黄酥 6 枚装"})
    do("quality", rated, "dispatch", 68, unit_id=units["生产部"].id, investigator_id=users["handler2"].id)
    do("handler2", rated, "propose", 60, findings="该批次蛋黄酥储存温度偏高", root_cause="仓库空调故障两天未发现",
       cause_category="environment", kind="refund", amount="36", text="为您全额退款 36 元，并赠送新品一盒致歉。")
    do("manager" if rated.approval_level == "manager" else "prod_head", rated, "approve", 55)
    do("handler2", rated, "answer", 50, method="phone", accepted=True)
    link = links.issue(session, rated, now - timedelta(hours=49), 7)
    steps.rate(session, link, score=5, comment="处理很快，谢谢。", confirm=True, now=now - timedelta(hours=40))
    return 3
