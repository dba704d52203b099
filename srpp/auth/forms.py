from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from srpp.auth.models import Role
from srpp.core.forms import VersionedForm
from srpp.core.i18n import LANGUAGE_NAMES


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    # the length rule is the service's (auth.services.check_new_password), like on the account page
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two passwords are not the same."))])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()))


class AccountForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200)])


class UserCreateForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)])
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()))


class UserEditForm(VersionedForm):
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()))
    active = BooleanField(_l("Active (may log in)"))


class MembershipForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    municipality_id = SelectField(_l("Municipality"), coerce=int, validators=[Optional()], choices=[])
    supplier_id = SelectField(_l("Supplier organisation"), coerce=int, validators=[Optional()], choices=[])
    region_id = SelectField(_l("Region"), coerce=int, validators=[Optional()], choices=[])

    def fill_choices(self, municipalities, suppliers, regions) -> None:
        self.role.choices = Role.choices()
        none = [(0, "—")]
        self.municipality_id.choices = none + [(m.id, m.name) for m in municipalities]
        self.supplier_id.choices = none + [(s.id, s.legal_name) for s in suppliers]
        self.region_id.choices = none + [(r.id, r.name) for r in regions]
