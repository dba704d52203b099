"""Forms of the framework pages. They only parse what people type; every rule is checked by
srpp.frameworks.services."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from srpp.core.forms import VersionedForm
from srpp.frameworks.models import CallOffMethod, FrameworkAgreement
from srpp.frameworks.services import FrameworkInput
from srpp.plans.forms import AmountField, parse_amount


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class FrameworkForm(VersionedForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"placeholder": "FA-MOB-DRT-2026"})
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    category_id = SelectField(_l("Service area"), coerce=int, choices=[])
    tender_id = SelectField(_l("Awarded joint tender (if the framework comes from one)"), coerce=_int_or_none,
                            choices=[], validators=[Optional()])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    term_justification = TextAreaField(_l("Justification of a term over 48 months"),
                                       validators=[Optional(), Length(max=4000)])
    estimated_value = AmountField(_l("Estimated value, EUR"), validators=[DataRequired()])
    max_value = AmountField(_l("Maximum value, EUR (a hard ceiling for all call-offs)"),
                            validators=[DataRequired()])
    call_off_method = SelectField(_l("Call-off method"), choices=[])
    objective_criteria = TextAreaField(_l("Objective criteria (required for the hybrid method)"),
                                       validators=[Optional(), Length(max=4000)])
    admits_new_suppliers = BooleanField(_l("New suppliers may still join (listed as an opportunity)"))

    def fill_choices(self, categories, tenders=()) -> None:
        self.category_id.choices = [(c.id, f"{c.name} ({c.key})") for c in categories]
        self.tender_id.choices = [("", "—")] + [(t.id, t.title) for t in tenders]
        self.call_off_method.choices = CallOffMethod.choices()

    def load(self, fa: FrameworkAgreement) -> None:
        self.process(obj=fa)
        self.call_off_method.data = fa.call_off_method.value
        self.version.data = fa.version

    def to_input(self) -> FrameworkInput:
        return FrameworkInput(
            code=self.code.data or "",
            title=self.title.data or "",
            category_id=self.category_id.data,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            estimated_value=parse_amount(self.estimated_value.data),
            max_value=parse_amount(self.max_value.data),
            call_off_method=CallOffMethod(self.call_off_method.data),
            objective_criteria=self.objective_criteria.data,
            term_justification=self.term_justification.data,
            admits_new_suppliers=bool(self.admits_new_suppliers.data),
            tender_id=self.tender_id.data,
        )


class StateForm(FlaskForm):
    target = HiddenField()


class CoordinatorForm(FlaskForm):
    category_id = SelectField(_l("Service area"), coerce=int, choices=[])
    municipality_id = SelectField(_l("Coordinator municipality"), coerce=int, choices=[])
    valid_from = DateField(_l("Coordinator from"), validators=[DataRequired()])
    decision_ref = StringField(_l("Council decision reference"), validators=[DataRequired(), Length(max=200)])


CAP_RE = re.compile(r"^\s*(\d{4})\s*[:=]\s*(.+?)\s*$")


def parse_caps(raw: str | None) -> dict[int, Decimal] | None:
    """'2026: 50 000; 2027: 52 000,50' (separated by ';' or new lines) → {2026: 50000, 2027: 52000.50};
    None when a part cannot be read."""
    caps: dict[int, Decimal] = {}
    for part in re.split(r"[;\n]+", raw or ""):
        if not part.strip():
            continue
        m = CAP_RE.match(part)
        amount = parse_amount(m.group(2)) if m else None
        if amount is None:
            return None
        caps[int(m.group(1))] = amount
    return caps


class ParticipantForm(FlaskForm):
    municipality_id = SelectField(_l("Municipality"), coerce=int, choices=[])
    opt_out_notice_days = IntegerField(_l("Opt-out notice (days)"), default=90,
                                       validators=[InputRequired(), NumberRange(min=0, max=730)])
    caps = StringField(_l("Yearly budget caps"), validators=[Optional(), Length(max=400)],
                       render_kw={"placeholder": "2026: 50000; 2027: 52000"})

    def validate_caps(self, field) -> None:
        if parse_caps(field.data) is None:
            raise ValidationError(_l("Write the caps as YEAR: AMOUNT, separated by semicolons, "
                                     "e.g. 2026: 50000; 2027: 52000."))


class CapForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    cap = AmountField(_l("Cap, EUR"), validators=[DataRequired()])


class PartyForm(FlaskForm):
    supplier_id = SelectField(_l("Supplier"), coerce=int, choices=[])
    joined_on = DateField(_l("Party since"), validators=[DataRequired()])


class PriceForm(FlaskForm):
    supplier_id = SelectField(_l("Supplier"), coerce=int, choices=[])
    item = StringField(_l("Item"), validators=[DataRequired(), Length(max=200)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=80)])
    unit_price = AmountField(_l("Unit price, EUR"), validators=[DataRequired()])


class SpecificationForm(FlaskForm):
    specification = TextAreaField(_l("Specification"), validators=[DataRequired(), Length(max=50000)],
                                  render_kw={"rows": 12})
    quality_standard = TextAreaField(_l("Quality standard"), validators=[DataRequired(), Length(max=50000)],
                                     render_kw={"rows": 8})
    change_note = TextAreaField(_l("What changed (required from version 2 on)"),
                                validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})


class EventForm(FlaskForm):
    held_on = DateField(_l("Held on"), validators=[DataRequired()])
    attendees = TextAreaField(_l("Attendees"), validators=[DataRequired(), Length(max=4000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=8000)])
    resulting_changes = TextAreaField(_l("Resulting changes"), validators=[Optional(), Length(max=8000)])


class AcknowledgeForm(FlaskForm):
    version_id = HiddenField()
    municipality_id = HiddenField()
