from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints._render import choices
from domain.accounts import DISPLAY_NAME_MAX, PASSWORD_MAX
from domain.orgtree import NAME_MAX


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = {str(c.value) for c in self.choices}
        if any(str(v) not in allowed for v in self.data or []):
            raise ValidationError(gettext("选项无效，请重新选择。"))


class UnitAddForm(FlaskForm):
    name = StringField(_l("名称"), validators=[
        InputRequired(_l("请填写单位名称。")), Length(max=NAME_MAX, message=_l("单位名称最多 %(max)d 个字。"))])
    kind = SelectField(_l("类型"), validators=[InputRequired(_l("请选择类型。"))])
    parent_id = SelectField(_l("上级单位"), coerce=int, validate_choice=False)


class UnitRenameForm(FlaskForm):
    name = StringField(_l("新名称"), validators=[
        InputRequired(_l("请填写单位名称。")), Length(max=NAME_MAX, message=_l("单位名称最多 %(max)d 个字。"))])


class UnitMoveForm(FlaskForm):
    parent_id = SelectField(_l("移到"), coerce=int, validate_choice=False)


class EmptyForm(FlaskForm):
    """A POST with only the CSRF token (deactivate, delete …)."""


class _UserFields(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[
        InputRequired(_l("请填写姓名。")), Length(max=DISPLAY_NAME_MAX, message=_l("姓名最多 %(max)d 个字。"))])
    org_unit_id = SelectField(_l("所属单位"), coerce=int, validate_choice=False)
    roles = MultiCheckboxField(_l("角色"))
    is_head = BooleanField(_l("本单位负责人"))
    email = StringField(_l("电子邮箱（接收提醒，可不填）"), render_kw={"maxlength": 120, "inputmode": "email",
                                                            "autocomplete": "off"})
    locale = RadioField(_l("界面语言"), choices=choices([("zh_CN", "简体中文"), ("en", "English")]), default="zh_CN")


class UserCreateForm(_UserFields):
    username = StringField(_l("用户名"), validators=[
        InputRequired(_l("请填写用户名。")), Length(max=40, message=_l("用户名最多 40 位。"))])
    password = PasswordField(_l("初始密码"), validators=[
        InputRequired(_l("请填写初始密码。")), Length(max=PASSWORD_MAX, message=_l("密码最多 128 位。"))])


class UserEditForm(_UserFields):
    pass


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("临时密码"), validators=[
        InputRequired(_l("请填写临时密码。")), Length(max=PASSWORD_MAX, message=_l("密码最多 128 位。"))])


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("搜索"), validators=[Optional()], filters=[lambda v: v[:60] if v else v])
    role = SelectField(_l("角色"), validators=[Optional()], validate_choice=False)
    status = SelectField(_l("状态"), choices=choices([("active", _l("在职")), ("inactive", _l("已停用")), ("all", _l("全部"))]),
                         default="active", validate_choice=False)


class SettingsForm(FlaskForm):
    major_threshold = StringField(_l("重大投诉金额标准（元）"), validators=[InputRequired(_l("请填写金额。"))],
                                  render_kw={"inputmode": "decimal", "maxlength": 16})
    head_approval_limit = StringField(_l("部门负责人审批额度（元）"), validators=[InputRequired(_l("请填写金额。"))],
                                      render_kw={"inputmode": "decimal", "maxlength": 16})


class CategoryAddForm(FlaskForm):
    name = StringField(_l("类别名称"), validators=[InputRequired(_l("请填写类别名称。"))], render_kw={"maxlength": 40})
    parent_id = SelectField(_l("上级类别"), validate_choice=False)


class CategoryRenameForm(FlaskForm):
    name = StringField(_l("名称"), validators=[InputRequired(_l("请填写类别名称。"))], render_kw={"maxlength": 40})


class ReplyTemplateForm(FlaskForm):
    title = StringField(_l("模板名称"), validators=[InputRequired(_l("请填写模板名称。"))], render_kw={"maxlength": 40})
    category_id = SelectField(_l("适用类别"), validate_choice=False)
    body = TextAreaField(_l("模板内容"), validators=[InputRequired(_l("请填写模板内容。"))],
                         render_kw={"rows": 7, "maxlength": 2000})
