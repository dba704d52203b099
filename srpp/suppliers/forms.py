"""Forms of the SEO directory and the eligibility statuses. The rules live in the services;
these forms only parse what the user typed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from srpp.core.forms import FiniteDecimalField
from srpp.suppliers.models import StatusBasis


class DeclareStatusForm(FlaskForm):
    basis = SelectField(_l("Basis"), choices=[], validators=[InputRequired()])
    declared_share = FiniteDecimalField(_l("Share of supported workers among your staff (%)"), places=2,
                                  validators=[Optional()])
    art77_mission = BooleanField(_l("(a) Our objective is a public-service mission linked to these services"))
    art77_reinvests = BooleanField(_l("(b) Profits are reinvested to achieve that objective"))
    art77_participatory = BooleanField(_l("(c) Management or ownership is based on employee ownership or "
                                          "participatory principles"))
    valid_from = DateField(_l("Valid from"), validators=[InputRequired(_l("Give the date from which the status "
                                                                          "is valid."))])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])
    evidence = FileField(_l("Evidence document (PDF, PNG or JPEG, at most 5 MB)"),
                         render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"})

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.basis.choices = StatusBasis.choices()


class DecisionForm(FlaskForm):
    """Verify: only the CSRF token and the version the reviewer saw."""

    version = HiddenField()


class RejectForm(DecisionForm):
    reason = TextAreaField(_l("Reason for rejecting"), validators=[Optional(), Length(max=4000)])


class DirectoryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    category = SelectField(_l("Service category"), choices=[], validators=[Optional()])
    municipality = SelectField(_l("Municipality served"), choices=[], validators=[Optional()])
