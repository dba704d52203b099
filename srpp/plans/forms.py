from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from srpp.orgs.models import PriorityArea
from srpp.plans.services import ItemInput
from srpp.rules.models import Procedure, ReservationBasis

MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
#: the largest number an amount field takes (amounts are stored as Numeric(14, 2))
MAX_AMOUNT = Decimal("999999999999.99")


def parse_month(raw: str | None) -> dt.date | None:
    m = MONTH_RE.match(raw or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not 1900 <= year <= 2200:  # the import's range (year 0 is no date at all)
        return None
    return dt.date(year, month, 1)


def parse_amount(raw: str | None) -> Decimal | None:
    """Accepts 1234.50, 1234,50, 1 234,50 and 1.234,50 (the way people type euros)."""
    value = _parse_number(raw)
    # 1e400 is a Decimal but no amount: beyond what the database stores, sums and formatting fail
    return value if value is not None and abs(value) <= MAX_AMOUNT else None


def _parse_number(raw: str | None) -> Decimal | None:
    text = (raw or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    if not text:
        return None
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def column_sum(rows: object, field_name: str) -> Decimal:
    """The sum of one amount column over a FieldList of row forms (empty or unreadable cells count 0)."""
    total = Decimal(0)
    for entry in rows.entries:
        value = parse_amount(getattr(entry.form, field_name).data)
        if value is not None:
            total += value
    return total


class MonthField(StringField):
    """A month typed as YYYY-MM (an <input type="month"> where the browser has one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"type": "month", "placeholder": "2027-03"})
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        self.data = value.strftime("%Y-%m") if isinstance(value, dt.date) else value

    def pre_validate(self, form):
        if self.data and parse_month(self.data) is None:
            raise ValidationError(_l("Write the month as YYYY-MM, e.g. 2027-03."))


class AmountField(StringField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        self.data = format(value, "f") if isinstance(value, Decimal) else value

    def pre_validate(self, form):
        if self.data and parse_amount(self.data) is None:
            raise ValidationError(_l("The number is too large.") if _too_large(self.data)
                                  else _l("Write an amount like 1234.50 or 1 234,50."))


def _too_large(raw: str) -> bool:
    return _parse_number(raw) is not None and parse_amount(raw) is None


class NewPlanForm(FlaskForm):
    start_month = MonthField(_l("First month of the 12-month period"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])


class PublishForm(FlaskForm):
    change_note = TextAreaField(_l("What changed (shown in the version history)"),
                                validators=[Optional(), Length(max=2000)])


class PlanItemForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=250)])
    category_id = SelectField(_l("Service category"), coerce=int, choices=[])
    main_cpv = StringField(_l("Main CPV code"), validators=[DataRequired(), Length(max=12)],
                           render_kw={"data-cpv-picker": "/cpv/search.json", "placeholder": "85312100-0"})
    additional_cpv = StringField(_l("Additional CPV codes"), validators=[Optional(), Length(max=400)],
                                 render_kw={"data-cpv-picker": "/cpv/search.json", "data-cpv-multi": "1"})
    priority_area = SelectField(_l("Priority area"), choices=[], validators=[Optional()])
    target_groups = StringField(_l("Target groups"), validators=[Optional(), Length(max=300)])
    estimated_value = AmountField(_l("Estimated value, EUR (options and extensions included)"),
                                  validators=[DataRequired()])
    quantity = AmountField(_l("Estimated quantity"), validators=[Optional()])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=80)])
    launch_month = MonthField(_l("Planned launch month"), validators=[DataRequired()])
    duration_months = IntegerField(_l("Contract duration (months)"), validators=[DataRequired(),
                                                                                   NumberRange(min=1, max=120)])
    procedure = SelectField(_l("Procedure"), choices=[])
    reservation = SelectField(_l("Intended reservation"), choices=[])
    intended_lots = IntegerField(_l("Intended number of lots"), default=1, validators=[DataRequired(),
                                                                                       NumberRange(min=1, max=100)])
    funding_measure_id = SelectField(_l("Funding source"), coerce=lambda v: int(v) if v else None, choices=[],
                                     validators=[Optional()])
    framework_id = SelectField(_l("Framework agreement (for a call-off)"), coerce=lambda v: int(v) if v else None,
                               choices=[], validators=[Optional()])
    is_bundle = BooleanField(_l("Bundle of services (e.g. care + mobility)"))
    notes_for_seos = TextAreaField(_l("Notes for social economy organisations"),
                                   validators=[Optional(), Length(max=4000)])

    def fill_choices(self, categories, funding, frameworks=()) -> None:
        self.framework_id.choices = [("", "—")] + [(f.id, f"{f.code} · {f.title}") for f in frameworks]
        self.category_id.choices = [(c.id, f"{c.name} ({c.key})") for c in categories]
        self.priority_area.choices = [("", _l("From the category"))] + PriorityArea.choices()
        self.procedure.choices = Procedure.choices()
        self.reservation.choices = ReservationBasis.choices()
        self.funding_measure_id.choices = [("", "—")] + [(f.id, f"{f.code} · {f.name}") for f in funding]

    def load(self, item) -> None:
        """Fill the form from an item (GET)."""
        self.process(obj=item)
        self.additional_cpv.data = ", ".join(c.code for c in item.additional_cpv if c.code != item.main_cpv)
        self.priority_area.data = item.priority_area.value
        self.procedure.data = item.procedure.value
        self.reservation.data = item.reservation.value
        self.framework_id.data = item.framework_id

    def to_input(self) -> ItemInput:
        codes = [c.strip() for c in re.split(r"[,;\s]+", self.additional_cpv.data or "") if c.strip()]
        return ItemInput(
            title=self.title.data or "",
            category_id=self.category_id.data,
            main_cpv=(self.main_cpv.data or "").strip(),
            additional_cpv=codes,
            priority_area=PriorityArea(self.priority_area.data) if self.priority_area.data else None,
            target_groups=self.target_groups.data,
            estimated_value=parse_amount(self.estimated_value.data),
            quantity=parse_amount(self.quantity.data),
            unit=self.unit.data,
            launch_month=parse_month(self.launch_month.data),
            duration_months=self.duration_months.data,
            procedure=Procedure(self.procedure.data),
            reservation=ReservationBasis(self.reservation.data),
            intended_lots=self.intended_lots.data,
            funding_measure_id=self.funding_measure_id.data,
            is_bundle=bool(self.is_bundle.data),
            notes_for_seos=self.notes_for_seos.data,
            framework_id=self.framework_id.data,
        )


#: the labels of plan-item fields, for the version differences page
ITEM_FIELD_LABELS = {
    "title": _l("Title"), "category_id": _l("Service category"), "main_cpv": _l("Main CPV code"),
    "cpv_codes": _l("CPV codes"), "priority_area": _l("Priority area"), "target_groups": _l("Target groups"),
    "estimated_value": _l("Estimated value"), "quantity": _l("Estimated quantity"), "unit": _l("Unit"),
    "launch_month": _l("Planned launch month"), "duration_months": _l("Contract duration (months)"),
    "procedure": _l("Procedure"), "reservation": _l("Intended reservation"),
    "intended_lots": _l("Intended number of lots"), "funding_measure_id": _l("Funding source"),
    "is_bundle": _l("Bundle"), "framework_id": _l("Framework agreement"), "notes_for_seos": _l("Notes for social economy organisations"), "state": _l("State"),
}
