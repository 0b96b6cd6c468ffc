"""The customer's forms. They carry values only: the rules are the domain's (domain.intake through
domain.portal.online, domain.portal.steps); CSRF is Flask-WTF's."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField

from blueprints._render import choices
from domain.intake import CONTENT_MAX, DEMAND_LABELS


class Loose(RadioField):
    """Radio buttons whose unknown values the domain refuses (with its message, the rest kept)."""

    def pre_validate(self, form):
        pass


class ComplainForm(FlaskForm):
    token = HiddenField()          # the intake's idempotency token: a double submit is one complaint
    # Hidden from people by the stylesheet; a robot filling every field fills this one too.
    website = StringField(_l("网址（请留空）"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    customer_name = StringField(_l("您的姓名"), render_kw={"maxlength": 60, "autocomplete": "name"})
    customer_phone = StringField(_l("手机号码"), render_kw={"type": "tel", "maxlength": 24, "inputmode": "tel",
                                                           "autocomplete": "tel"})
    customer_email = StringField(_l("电子邮箱"), render_kw={"type": "email", "maxlength": 120, "inputmode": "email",
                                                           "autocomplete": "email", "autocapitalize": "none"})
    content = TextAreaField(_l("发生了什么"), render_kw={"rows": 5, "maxlength": CONTENT_MAX})
    demand = Loose(_l("您希望我们怎么处理"), choices=choices(
        (key.value, _l(label)) for key, label in DEMAND_LABELS.items()))
    store_id = SelectField(_l("在哪家门店（可不填）"), validate_choice=False)
    order_no = StringField(_l("订单号（可不填）"), render_kw={"maxlength": 60, "autocomplete": "off"})
    product_name = StringField(_l("商品名称（可不填）"), render_kw={"maxlength": 120})
    privacy_consent = BooleanField(_l("我已阅读并同意上面的个人信息保护说明"))
    # PIPL: a separate choice, never ticked in advance.
    contact_consent = BooleanField(_l("请通过短信或邮件告诉我这条投诉的编号、答复和评价链接"), default=False)


class TrackForm(FlaskForm):
    number = StringField(_l("投诉编号"), render_kw={"maxlength": 24, "autocomplete": "off", "autocapitalize": "characters",
                                                    "spellcheck": "false", "placeholder": "TS-202501-0012"})
    proof = StringField(_l("手机号后四位，或电子邮箱"), render_kw={"maxlength": 120, "autocomplete": "off",
                                                                 "autocapitalize": "none", "spellcheck": "false"})


class AddForm(FlaskForm):
    upload_token = HiddenField()
    text = TextAreaField(_l("要补充的内容"), render_kw={"rows": 4, "maxlength": 2000})


SCORE_LABELS = {5: _l("很满意"), 4: _l("满意"), 3: _l("一般"), 2: _l("不满意"), 1: _l("很不满意")}


class SurveyForm(FlaskForm):
    score = Loose(_l("您对我们的处理满意吗？"), choices=choices((str(n), label) for n, label in SCORE_LABELS.items()))
    comment = TextAreaField(_l("还想对我们说的话（可不填）"), render_kw={"rows": 3, "maxlength": 2000})
    confirm = BooleanField(_l("问题已解决，同意结案"))
