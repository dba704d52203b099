"""Forms of the contract and invoice pages. They only parse what people type; every rule (payment
terms, schedules that add up, invoices and payments) is checked by srpp.contracts.services and
srpp.payments.services."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from srpp.contracts.models import Contract, DayType, MilestoneTrigger
from srpp.contracts.services import STANDARD_TERM, ContractInput, MilestoneInput, TermsInput
from srpp.core.forms import VersionedForm
from srpp.payments.services import InvoiceInput
from srpp.plans.forms import AmountField, column_sum, parse_amount
from srpp.rules.models import ReservationBasis


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


# --- the list --------------------------------------------------------------------------------------

class ContractFilterForm(FlaskForm):
    class Meta:
        csrf = False

    municipality = SelectField(_l("Municipality"), choices=[], validators=[Optional()])
    state = SelectField(_l("State"), choices=[], validators=[Optional()])


# --- payment terms ------------------------------------------------------------------------------------

class TermsFields(FlaskForm):
    """The payment terms of a contract (PAY-01, PAY-03, PAY-04)."""

    payment_term_days = IntegerField(_l("Payment term, days"), default=STANDARD_TERM,
                                     validators=[InputRequired(), NumberRange(min=1, max=366)])
    payment_term_justification = TextAreaField(_l("Justification of a term over 30 days"),
                                               validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    day_type = SelectField(_l("Offsets of the milestones count"), choices=[], default=DayType.CALENDAR.value)
    acceptance_days = IntegerField(_l("Acceptance or verification period, days (empty: none)"),
                                   validators=[Optional(), NumberRange(min=0, max=366)])
    acceptance_justification = TextAreaField(_l("Justification of an acceptance period over 30 days"),
                                             validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    advance_percent = AmountField(_l("Advance payment, in percent of the value"), default="0",
                                  validators=[Optional()])
    reference = StringField(_l("Contract reference"), validators=[Optional(), Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.day_type.choices = DayType.choices()

    def load_terms(self, contract: Contract) -> None:
        self.payment_term_days.data = contract.payment_term_days
        self.payment_term_justification.data = contract.payment_term_justification or ""
        self.day_type.data = contract.day_type.value
        self.acceptance_days.data = contract.acceptance_days
        self.acceptance_justification.data = contract.acceptance_justification or ""
        self.advance_percent.data = format(Decimal(contract.advance_percent or 0).normalize(), "f")
        self.reference.data = contract.reference or ""

    def to_terms(self) -> TermsInput:
        advance = parse_amount(self.advance_percent.data)
        return TermsInput(
            payment_term_days=self.payment_term_days.data,
            payment_term_justification=_text(self.payment_term_justification.data),
            day_type=DayType(self.day_type.data or DayType.CALENDAR.value),
            acceptance_days=self.acceptance_days.data,
            acceptance_justification=_text(self.acceptance_justification.data),
            advance_percent=advance if advance is not None else Decimal(0),
            reference=_text(self.reference.data),
        )


class TermsForm(TermsFields):
    version = HiddenField()

    def load(self, contract: Contract) -> None:
        self.load_terms(contract)
        self.version.data = contract.version


class ContractForm(TermsFields):
    """A contract entered directly (not awarded through a tender or a call-off here)."""

    municipality_id = SelectField(_l("Municipality (the contracting authority)"), coerce=_int_or_none, choices=[],
                                  validators=[DataRequired()])
    supplier_id = SelectField(_l("Supplier"), coerce=_int_or_none, choices=[], validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    value = AmountField(_l("Value, EUR"), validators=[DataRequired()])
    awarded_on = DateField(_l("Signed on (empty: the start date)"), validators=[Optional()])
    start_date = DateField(_l("Start"), validators=[DataRequired()])
    end_date = DateField(_l("End"), validators=[DataRequired()])
    main_cpv = StringField(_l("Main CPV code"), validators=[DataRequired(), Length(max=12)],
                           render_kw={"data-cpv-picker": "/cpv/search.json", "placeholder": "85312100-0"})
    reservation = SelectField(_l("Reservation"), choices=[], default=ReservationBasis.NONE.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reservation.choices = ReservationBasis.choices()

    def to_input(self) -> ContractInput:
        return ContractInput(
            municipality_id=self.municipality_id.data, supplier_id=self.supplier_id.data,
            title=(self.title.data or "").strip(), value=parse_amount(self.value.data),
            start_date=self.start_date.data, end_date=self.end_date.data,
            main_cpv=(self.main_cpv.data or "").strip(), awarded_on=self.awarded_on.data,
            reservation=ReservationBasis(self.reservation.data or ReservationBasis.NONE.value),
        )


class ValueForm(VersionedForm):
    """An amendment of the contract value (EU-MOD-01)."""

    value = AmountField(_l("New value, EUR"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for the amendment"), validators=[DataRequired(), Length(max=4000)],
                           render_kw={"rows": 2})


# --- the milestone schedule ----------------------------------------------------------------------------

class MilestoneRow(Form):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    share_percent = AmountField(_l("Share, %"), validators=[Optional()])
    fixed_amount = AmountField(_l("or fixed amount, EUR"), validators=[Optional()])
    trigger = SelectField(_l("Trigger event"), choices=[], default=MilestoneTrigger.DELIVERY.value)
    trigger_description = StringField(_l("Trigger description"), validators=[Optional(), Length(max=2000)])
    trigger_date = DateField(_l("Trigger date"), validators=[Optional()])
    offset_days = IntegerField(_l("Offset, days"), validators=[Optional()])
    day_type = SelectField(_l("Day type"), choices=[], default=DayType.CALENDAR.value)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trigger.choices = MilestoneTrigger.choices()
        self.day_type.choices = DayType.choices()

    @property
    def is_blank(self) -> bool:
        texts = (self.title.data, self.share_percent.data, self.fixed_amount.data, self.trigger_description.data)
        return not any((t or "").strip() for t in texts) and self.trigger_date.data is None \
            and self.trigger_date.raw_data in (None, [], [""])

    def to_input(self) -> MilestoneInput:
        return MilestoneInput(
            title=(self.title.data or "").strip(),
            trigger=MilestoneTrigger(self.trigger.data or MilestoneTrigger.OTHER.value),
            share_percent=parse_amount(self.share_percent.data),
            fixed_amount=parse_amount(self.fixed_amount.data),
            trigger_description=_text(self.trigger_description.data),
            trigger_date=self.trigger_date.data,
            offset_days=self.offset_days.data if self.offset_days.data is not None else 0,
            day_type=DayType(self.day_type.data or DayType.CALENDAR.value),
        )


EMPTY_ROWS = 3
MAX_ROWS = 150  # a monthly schedule of a ten-year contract, an advance and some room


def _row_data(m) -> dict:
    """The row of a milestone or a MilestoneInput."""
    return {"title": m.title,
            "share_percent": format(Decimal(m.share_percent).normalize(), "f") if m.share_percent is not None else "",
            "fixed_amount": format(m.fixed_amount, "f") if m.fixed_amount is not None else "",
            "trigger": m.trigger.value, "trigger_description": m.trigger_description or "",
            "trigger_date": m.trigger_date, "offset_days": m.offset_days, "day_type": m.day_type.value}


class ScheduleForm(VersionedForm):
    rows = FieldList(FormField(MilestoneRow), min_entries=1, max_entries=MAX_ROWS)
    reason = TextAreaField(_l("Reason for the change (kept in each changed milestone's history)"),
                           validators=[Optional(), Length(max=4000)], render_kw={"rows": 2})

    def load(self, milestones, version: int, empty: int = EMPTY_ROWS) -> None:
        """Fill the rows from milestones (or MilestoneInputs), with empty rows after them."""
        while self.rows.entries:
            self.rows.pop_entry()
        for m in milestones:
            self.rows.append_entry(_row_data(m))
        for _n in range(min(empty, MAX_ROWS - len(self.rows.entries))):
            self.rows.append_entry({"trigger": MilestoneTrigger.DELIVERY.value, "day_type": DayType.CALENDAR.value})
        self.version.data = version

    def to_inputs(self) -> list[MilestoneInput]:
        return [entry.form.to_input() for entry in self.rows.entries if not entry.form.is_blank]

    def row_errors(self) -> list[str]:
        """The rows' own errors (a share that is not a number …), named by row number."""
        out = []
        for n, entry in enumerate(self.rows.entries, start=1):
            for field in entry.form:
                out += [_("Milestone %(n)s, %(field)s: %(error)s", n=n, field=field.label.text, error=e)
                        for e in field.errors]
        return out

    @property
    def share_sum(self) -> Decimal:
        return column_sum(self.rows, "share_percent")

    @property
    def fixed_sum(self) -> Decimal:
        return column_sum(self.rows, "fixed_amount")


# --- invoices and payments ------------------------------------------------------------------------------

class InvoiceForm(FlaskForm):
    number = StringField(_l("Invoice number"), validators=[DataRequired(), Length(max=60)])
    amount = AmountField(_l("Amount, EUR"), validators=[DataRequired()])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    e_invoice_ref = StringField(_l("E-invoice reference"), validators=[Optional(), Length(max=120)])
    milestone_id = SelectField(_l("Milestone"), coerce=_int_or_none, choices=[], validators=[Optional()],
                               validate_choice=False)  # the service refuses another contract's milestone

    def fill_choices(self, contract: Contract) -> None:
        self.milestone_id.choices = [("", "—")] + [
            (m.id, f"{m.sequence}. {m.title}") for m in contract.milestones]

    def to_input(self) -> InvoiceInput:
        return InvoiceInput(number=(self.number.data or "").strip(), amount=parse_amount(self.amount.data),
                            received_on=self.received_on.data, e_invoice_ref=_text(self.e_invoice_ref.data),
                            milestone_id=self.milestone_id.data)


class AcceptForm(VersionedForm):
    accepted_on = DateField(_l("Accepted on"), validators=[DataRequired()])


class DisputeForm(VersionedForm):
    disputed_on = DateField(_l("Disputed on"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for the dispute"), validators=[DataRequired(), Length(max=4000)],
                           render_kw={"rows": 2})


class ResolveForm(VersionedForm):
    resolved_on = DateField(_l("Dispute resolved on"), validators=[DataRequired()])


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])
    amount = AmountField(_l("Amount, EUR"), validators=[DataRequired()])
    reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=120)])


# --- work stoppages ----------------------------------------------------------------------------------------

class StoppageForm(FlaskForm):
    started_on = DateField(_l("Work stopped on"), validators=[DataRequired()])
    ended_on = DateField(_l("Work resumed on (empty: still stopped)"), validators=[Optional()])
    cause = TextAreaField(_l("Cause"), validators=[DataRequired(), Length(max=4000)], render_kw={"rows": 2})
