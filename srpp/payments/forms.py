"""Forms of the payment pages (the rules themselves live in srpp/payments/services.py and reports.py).

Sections: the council's dashboard filters, payment compliance reports, reference rates. Later areas
(the supplier's view, the import) append their forms in sections of their own below."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from srpp.core.forms import VersionedForm
from srpp.plans.forms import AmountField

# --- dashboard ------------------------------------------------------------------------------------------


def supplier_type_choices() -> list[tuple[str, object]]:
    return [("all", _l("All suppliers")), ("seo", _l("Social economy organisations")),
            ("other", _l("Other suppliers"))]


class DashboardFilterForm(FlaskForm):
    """The half-year and supplier type of the dashboard (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Half-year"), choices=[], validate_choice=False)
    supplier_type = SelectField(_l("Suppliers"), choices=supplier_type_choices(), validate_choice=False)


# --- payment compliance reports -------------------------------------------------------------------------

LANGUAGE_CHOICES = [("lt", "Lietuvių"), ("en", "English")]


class PrepareReportForm(FlaskForm):
    """Prepare (or recompute, while still a draft) the report of a completed half-year."""

    period = SelectField(_l("Half-year"), choices=[], validators=[DataRequired()])
    language = SelectField(_l("Language of the document"), choices=LANGUAGE_CHOICES, default="lt")


class ApproveReportForm(VersionedForm):
    """The statement of approval: a named finance officer, with role and date. Not required here:
    the service refuses a missing name or role with its own message, on the field."""

    approver_name = StringField(_l("Name of the approving officer"), validators=[Optional(), Length(max=200)])
    approver_role = StringField(_l("Role"), validators=[Optional(), Length(max=200)])
    approved_on = DateField(_l("Approved on"), validators=[Optional()])


class PublishReportForm(VersionedForm):
    """The publish button (CSRF and version only)."""


class RegenerateReportForm(FlaskForm):
    language = SelectField(_l("Language of the document"), choices=LANGUAGE_CHOICES, default="lt")


class ReportFilterForm(FlaskForm):
    """The public list's municipality filter (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    municipality = SelectField(_l("Municipality"), choices=[], validate_choice=False)


# --- reference rates ----------------------------------------------------------------------------------------

class RateForm(FlaskForm):
    valid_from = DateField(_l("Valid from (1 January or 1 July)"), validators=[DataRequired()])
    rate = AmountField(_l("ECB main refinancing operations rate, in percent"), validators=[DataRequired()])
    source = StringField(_l("Source (optional)"), validators=[Optional(), Length(max=300)])
