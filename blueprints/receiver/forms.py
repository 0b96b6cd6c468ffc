from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField

from blueprints._render import choices
from domain.intake import (CHANNEL_LABELS, CUSTOMER_CLASSES, DEMAND_LABELS, TYPE_LABELS, URGENCY_LABELS,
                           Channel, ComplaintType, Urgency)
from domain.severity import SEVERITY_LABELS, Severity


def labelled(labels):
    return choices((key.value if hasattr(key, "value") else key, _l(label)) for key, label in labels.items())


class Chips(RadioField):
    """Radio buttons shown as big tap targets. Unknown values are the domain's to refuse, so
    that the clerk gets its message and the rest of the form is kept."""

    def pre_validate(self, form):
        pass


class IntakeForm(FlaskForm):
    """The intake form. Types and rules are checked by domain.intake; this only carries values."""

    token = HiddenField()
    more = HiddenField()        # "1" once the "more details" part has been opened

    customer_name = StringField(_l("顾客姓名"), render_kw={"maxlength": 60, "autocomplete": "off"})
    customer_phone = StringField(_l("电话"), render_kw={"type": "tel", "maxlength": 24, "autocomplete": "off",
                                                       "inputmode": "tel"})
    customer_email = StringField(_l("电子邮箱"), render_kw={"type": "email", "maxlength": 120,
                                                           "autocomplete": "off", "inputmode": "email"})
    contact_consent = BooleanField(_l("顾客同意接收短信/邮件通知（受理编号、答复、评价链接）"), default=False)
    content = TextAreaField(_l("发生了什么"), render_kw={"rows": 4, "maxlength": 5000})
    product_name = StringField(_l("商品"), render_kw={"maxlength": 120})
    demand = Chips(_l("顾客要求"), choices=labelled(DEMAND_LABELS))
    amount_claimed = StringField(_l("要求金额（元）"), render_kw={"inputmode": "decimal", "maxlength": 16})
    category_id = Chips(_l("类别"))
    severity = Chips(_l("严重程度"), choices=labelled(SEVERITY_LABELS), default=Severity.GENERAL.value)
    safety = BooleanField(_l("食品安全 / 健康 / 人身安全"))
    media = BooleanField(_l("公众人物或媒体"))
    sensitive = BooleanField(_l("敏感热点话题"))
    reputation = BooleanField(_l("声誉风险"))
    type = Chips(_l("类型"), choices=labelled(TYPE_LABELS), default=ComplaintType.COMPLAINT.value)
    channel = Chips(_l("渠道"), choices=labelled(CHANNEL_LABELS), default=Channel.WALK_IN.value)
    spot_action = TextAreaField(_l("当场怎么处理的"), render_kw={"rows": 2, "maxlength": 2000})
    spot_accepted = BooleanField(_l("顾客认可当场处理"))
    link_kind = Chips(_l("与之前投诉的关系"), choices=choices(
        [("", _l("新问题")), ("repeat", _l("二次投诉")), ("duplicate", _l("重复登记"))]), default="")
    link_id = HiddenField()

    # "More details" (loaded with HTMX)
    urgency = Chips(_l("紧急程度"), choices=labelled(URGENCY_LABELS), default=Urgency.MEDIUM.value)
    customer_company = StringField(_l("单位"), render_kw={"maxlength": 120})
    customer_address = StringField(_l("联系地址"), render_kw={"maxlength": 200})
    customer_code = StringField(_l("客户编号"), render_kw={"maxlength": 40})
    customer_class = SelectField(_l("客户类别"), choices=choices([("", "—")] + list(
        (k, _l(v)) for k, v in CUSTOMER_CLASSES.items())), validate_choice=False)
    customer_foreign = BooleanField(_l("境外客户"))
    model_no = StringField(_l("料号/型号"), render_kw={"maxlength": 60})
    batch_no = StringField(_l("批号/生产日期"), render_kw={"maxlength": 60})
    quantity = StringField(_l("数量"), render_kw={"inputmode": "numeric", "maxlength": 10})
    defective_quantity = StringField(_l("不良品数量"), render_kw={"inputmode": "numeric", "maxlength": 10})
    order_no = StringField(_l("订单编号"), render_kw={"maxlength": 60})
    contract_no = StringField(_l("合同号"), render_kw={"maxlength": 60})
    purchase_date = StringField(_l("购买日期"), render_kw={"type": "date"})
    ship_date = StringField(_l("发货日期"), render_kw={"type": "date"})
    amount_involved = StringField(_l("涉及金额（元）"), render_kw={"inputmode": "decimal", "maxlength": 16})
    demand_text = TextAreaField(_l("要求的具体说明"), render_kw={"rows": 2, "maxlength": 1000})
    complained_unit_id = SelectField(_l("被投诉单位"), validate_choice=False)
    complained_person = StringField(_l("被投诉人员"), render_kw={"maxlength": 60})
    formal = BooleanField(_l("正式投诉（书面/8D 等）"))
    sample_received = BooleanField(_l("已收到样品"))
    sample_location = StringField(_l("样品存放位置"), render_kw={"maxlength": 120})


MORE_FIELDS = ("urgency", "customer_company", "customer_address", "customer_code", "customer_class",
               "customer_foreign", "model_no", "batch_no", "quantity", "defective_quantity", "order_no",
               "contract_no", "purchase_date", "ship_date", "amount_involved", "demand_text",
               "complained_unit_id", "complained_person", "formal", "sample_received", "sample_location")
