"""Forms of call-offs and opt-outs (the rules themselves live in srpp/frameworks/services.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from srpp.frameworks.services import CallOffInput
from srpp.plans.forms import AmountField, parse_amount


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class CallOffForm(FlaskForm):
    municipality_id = SelectField(_l("Municipality placing the call-off"), coerce=_int_or_none, choices=[],
                                  validators=[DataRequired()])
    #: not checked against the choices here: the service refuses a supplier that is not party (EU-FA-02)
    supplier_id = SelectField(_l("Supplier (party to the framework)"), coerce=_int_or_none, choices=[],
                              validators=[DataRequired()], validate_choice=False)
    awarded_on = DateField(_l("Awarded on"), validators=[DataRequired()])
    start_date = DateField(_l("Start"), validators=[DataRequired()])
    end_date = DateField(_l("End"), validators=[DataRequired()])
    quantity = AmountField(_l("Quantity"), validators=[DataRequired()])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=80)])
    unit_price = AmountField(_l("Unit price, EUR"), validators=[DataRequired()])
    budget_line = StringField(_l("Budget line"), validators=[DataRequired(), Length(max=120)])
    price_deviation_note = TextAreaField(_l("Why the unit price differs from the price schedule (optional)"),
                                         validators=[Optional(), Length(max=2000)])

    def to_input(self) -> CallOffInput:
        return CallOffInput(
            supplier_id=self.supplier_id.data, awarded_on=self.awarded_on.data, start_date=self.start_date.data,
            end_date=self.end_date.data, quantity=parse_amount(self.quantity.data),
            unit=(self.unit.data or "").strip(), unit_price=parse_amount(self.unit_price.data),
            budget_line=(self.budget_line.data or "").strip(),
            price_deviation_note=(self.price_deviation_note.data or "").strip() or None,
        )


class OptOutForm(FlaskForm):
    """The opt-out button (CSRF only)."""


class YearForm(FlaskForm):
    class Meta:
        csrf = False

    year = SelectField(_l("Year"), coerce=_int_or_none, choices=[])
