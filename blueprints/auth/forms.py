from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[InputRequired(_l("请填写用户名。")),
                                                   Length(max=40, message=_l("用户名最多 40 位。"))])
    password = PasswordField(_l("密码"), validators=[InputRequired(_l("请填写密码。")),
                                                  Length(max=128, message=_l("密码最多 128 位。"))])
    remember = BooleanField(_l("在这台设备上保持登录"))
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    old_password = PasswordField(_l("当前密码"), validators=[InputRequired(_l("请填写当前密码。"))])
    new_password = PasswordField(_l("新密码"), validators=[
        InputRequired(_l("请填写新密码。")), Length(max=128, message=_l("密码最多 128 位。"))])
    confirm = PasswordField(_l("再输一次新密码"), validators=[
        InputRequired(_l("请再输一次新密码。")), EqualTo("new_password", message=_l("两次输入的新密码不一致。"))])
