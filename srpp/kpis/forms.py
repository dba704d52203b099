"""Forms of the indicator pages: they only parse what people type (srpp.kpis.services checks it)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from srpp.core.forms import VersionedForm
from srpp.kpis.services import Thresholds
from srpp.plans.forms import parse_amount


class NumberField(StringField):
    """A decimal number as people type it: 12.5, 12,5, 1 234,5 (empty = none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        kwargs.setdefault("validators", [Optional()])
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        self.data = format(value.normalize(), "f") if isinstance(value, Decimal) else value

    def pre_validate(self, form):
        if self.data and self.data.strip() and parse_amount(self.data) is None:
            raise ValidationError(_l("Write a number like 12.5 or 12,5."))

    @property
    def number(self) -> Decimal | None:
        return parse_amount(self.data) if self.data else None


class ThresholdForm(VersionedForm):
    target = NumberField(_l("Target"))
    amber = NumberField(_l("Amber threshold"))
    red = NumberField(_l("Red threshold"))

    def thresholds(self) -> Thresholds:
        return Thresholds(self.target.number, self.amber.number, self.red.number)


class RecomputeForm(FlaskForm):
    """The on-demand recompute button (CSRF only)."""
