"""Forms of the officers' tender and lot pages. They only parse what people type; every rule is
checked by srpp.tenders.services."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from srpp.core.forms import VersionedForm
from srpp.plans.forms import AmountField, column_sum, parse_amount
from srpp.rules.models import Procedure, ReservationBasis
from srpp.tenders.models import CriterionKind
from srpp.tenders.services import CriterionInput, LotInput


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class OpenMultipleField(SelectMultipleField):
    """A multi-choice whose posted ids are not limited to the listed choices: the service says why a
    choice cannot be used (e.g. an item already tendered), which is clearer than 'not a valid choice'."""

    def pre_validate(self, form):
        pass

    def process_formdata(self, valuelist):
        out = []
        for v in valuelist:
            try:
                out.append(int(v))
            except (TypeError, ValueError):
                continue
        self.data = out


class CheckboxListField(OpenMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TenderFromPlanForm(FlaskForm):
    title = StringField(_l("Tender title"), validators=[Optional(), Length(max=250)])
    items = CheckboxListField(_l("Plan items to tender"), coerce=int, choices=[])
    mandates = CheckboxListField(_l("Mandating municipalities (joint tender)"), coerce=int, choices=[])


class TenderForm(VersionedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=8000)])
    procedure = SelectField(_l("Procedure"), choices=[])
    submission_deadline = DateField(_l("Submission deadline"), validators=[Optional()])
    is_srpp = BooleanField(_l("Socially responsible procurement (needs a social award criterion in every lot)"))
    no_division_reasons = TextAreaField(_l("Reasons for not dividing into lots"),
                                        validators=[Optional(), Length(max=4000)])
    max_lots_per_tenderer = IntegerField(_l("Maximum number of lots one tenderer may win"),
                                         validators=[Optional(), NumberRange(min=1, max=100)])
    allocation_rule = TextAreaField(_l("Rule deciding which lots a tenderer gets when it would win more"),
                                    validators=[Optional(), Length(max=4000)])

    def fill_choices(self) -> None:
        self.procedure.choices = Procedure.choices()

    def load(self, tender) -> None:
        self.process(obj=tender)
        self.procedure.data = tender.procedure.value
        self.version.data = tender.version

    def to_data(self) -> dict:
        return {
            "title": self.title.data or "",
            "description": self.description.data,
            "procedure": Procedure(self.procedure.data),
            "submission_deadline": self.submission_deadline.data,
            "is_srpp": bool(self.is_srpp.data),
            "no_division_reasons": self.no_division_reasons.data,
            "max_lots_per_tenderer": self.max_lots_per_tenderer.data,
            "allocation_rule": self.allocation_rule.data,
        }


class TransitionForm(FlaskForm):
    target = HiddenField(validators=[DataRequired()])
    version = HiddenField()
    reason = TextAreaField(_l("Reason for cancelling"), validators=[Optional(), Length(max=2000)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (delete, re-plan)."""


class LotForm(VersionedForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=8000)])
    category_id = SelectField(_l("Service category"), coerce=int, choices=[])
    main_cpv = StringField(_l("Main CPV code"), validators=[DataRequired(), Length(max=12)],
                           render_kw={"data-cpv-picker": "/cpv/search.json", "placeholder": "85312100-0"})
    additional_cpv = StringField(_l("Additional CPV codes"), validators=[Optional(), Length(max=400)],
                                 render_kw={"data-cpv-picker": "/cpv/search.json", "data-cpv-multi": "1"})
    estimated_value = AmountField(_l("Estimated value, EUR"), validators=[DataRequired()])
    duration_months = IntegerField(_l("Contract duration (months)"), validators=[InputRequired()])
    quantity = AmountField(_l("Estimated quantity"), validators=[Optional()])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=80)])
    reservation = SelectField(_l("Reservation"), choices=[])
    place_municipality_id = SelectField(_l("Place of performance: municipality"), coerce=_int_or_none, choices=[],
                                        validators=[Optional()])
    settlement = StringField(_l("Settlement"), validators=[Optional(), Length(max=120)])
    is_rural = BooleanField(_l("Rural area"))
    consortium_allowed = BooleanField(_l("Consortium bids allowed"), default=True)
    social_conditions = TextAreaField(_l("Social performance conditions"), validators=[Optional(), Length(max=8000)])

    def fill_choices(self, categories, municipalities) -> None:
        self.category_id.choices = [(c.id, f"{c.name} ({c.key})") for c in categories]
        self.reservation.choices = ReservationBasis.choices()
        self.place_municipality_id.choices = [("", "—")] + [(m.id, m.name) for m in municipalities]

    def load(self, lot) -> None:
        self.process(obj=lot)
        self.additional_cpv.data = ", ".join(c.code for c in lot.additional_cpv if c.code != lot.main_cpv)
        self.reservation.data = lot.reservation.value
        self.version.data = lot.version

    def to_input(self) -> LotInput:
        codes = [c.strip() for c in re.split(r"[,;\s]+", self.additional_cpv.data or "") if c.strip()]
        return LotInput(
            title=self.title.data or "",
            category_id=self.category_id.data,
            main_cpv=(self.main_cpv.data or "").strip(),
            additional_cpv=codes,
            estimated_value=parse_amount(self.estimated_value.data),
            duration_months=self.duration_months.data,
            description=self.description.data,
            quantity=parse_amount(self.quantity.data),
            unit=self.unit.data,
            place_municipality_id=self.place_municipality_id.data,
            settlement=self.settlement.data,
            is_rural=bool(self.is_rural.data),
            consortium_allowed=bool(self.consortium_allowed.data),
            social_conditions=self.social_conditions.data,
            reservation=ReservationBasis(self.reservation.data or ReservationBasis.NONE.value),
        )


class CriterionRow(Form):
    name = StringField(_l("Criterion"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[], default=CriterionKind.QUALITY.value)
    weight = AmountField(_l("Weight, %"), validators=[Optional()])
    subject_link = TextAreaField(_l("Link to the subject matter"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = CriterionKind.choices()

    @property
    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and not (self.weight.data or "").strip() \
            and not (self.subject_link.data or "").strip()


MIN_CRITERIA_ROWS = 4


class CriteriaForm(FlaskForm):
    rows = FieldList(FormField(CriterionRow), min_entries=MIN_CRITERIA_ROWS, max_entries=20)

    def load(self, criteria) -> None:
        """Fill the rows from the lot's criteria, with empty slots after them (at least four rows)."""
        while self.rows.entries:
            self.rows.pop_entry()
        for c in criteria:
            self.rows.append_entry({"name": c.name, "kind": c.kind.value, "weight": f"{c.weight:g}",
                                    "subject_link": c.subject_link or ""})
        while len(self.rows.entries) < max(MIN_CRITERIA_ROWS, len(criteria) + 2):
            self.rows.append_entry({"kind": CriterionKind.PRICE.value if not self.rows.entries
                                    else CriterionKind.SOCIAL.value})

    def to_rows(self) -> list[CriterionInput]:
        out = []
        for entry in self.rows.entries:
            row = entry.form
            if row.is_blank:
                continue
            out.append(CriterionInput(name=row.name.data or "", kind=CriterionKind(row.kind.data),
                                      weight=parse_amount(row.weight.data), subject_link=row.subject_link.data))
        return out

    def row_errors(self) -> list[str]:
        """The rows' own errors (a weight that is not a number …), named by row number."""
        out = []
        for n, entry in enumerate(self.rows.entries, start=1):
            for field in entry.form:
                out += [_l("Criterion %(n)s, %(field)s: %(error)s", n=n, field=field.label.text, error=e)
                        for e in field.errors]
        return out

    @property
    def weight_sum(self) -> Decimal:
        return column_sum(self.rows, "weight")


class BidForm(FlaskForm):
    supplier_id = SelectField(_l("Bidder (the lead of a consortium)"), coerce=_int_or_none, choices=[],
                              validators=[DataRequired()])
    members = OpenMultipleField(_l("Consortium members"), coerce=int, choices=[])
    price = AmountField(_l("Price, EUR"), validators=[DataRequired()])
    score = AmountField(_l("Score (0–100)"), validators=[Optional()])
    compliant = BooleanField(_l("Compliant"), default=True)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def fill_choices(self, suppliers) -> None:
        self.supplier_id.choices = [("", "—")] + [(s.id, s.legal_name) for s in suppliers]
        self.members.choices = [(s.id, s.legal_name) for s in suppliers]


class AwardForm(FlaskForm):
    bid_id = HiddenField(validators=[DataRequired()])
    version = HiddenField()
    award_date = DateField(_l("Award date"), validators=[DataRequired()])
    value = AmountField(_l("Contract value, EUR (empty: the bid price)"), validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
