"""The regional plan's GET filter form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from srpp.orgs.models import Municipality, PriorityArea, ServiceCategory
from srpp.region.services import PlanFilter
from srpp.rules.models import Procedure

SORT_CHOICES = [
    ("month", _l("Launch month, earliest first")),
    ("-month", _l("Launch month, latest first")),
    ("-value", _l("Value, largest first")),
    ("value", _l("Value, smallest first")),
]


class RegionFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter form

    municipality = SelectField(_l("Municipality"), choices=[], validators=[Optional()])
    category = SelectField(_l("Service category"), choices=[], validators=[Optional()])
    area = SelectField(_l("Priority area"), choices=[], validators=[Optional()])
    procedure = SelectField(_l("Procedure"), choices=[], validators=[Optional()])
    quarter = SelectField(_l("Launch quarter"), choices=[], validators=[Optional()])
    q = StringField(_l("Words"), validators=[Optional(), Length(max=200)])
    reserved = BooleanField(_l("Reserved only"))
    sort = SelectField(_l("Sort by"), choices=SORT_CHOICES, default="month", validators=[Optional()])

    def fill_choices(self, municipalities: list[Municipality], categories: list[ServiceCategory],
                     quarters: list[str]) -> None:
        everything = [("", _l("All"))]
        self.municipality.choices = everything + [(m.code, m.name) for m in municipalities]
        self.category.choices = everything + [(c.key, c.name) for c in categories]
        self.area.choices = everything + PriorityArea.choices()
        self.procedure.choices = everything + Procedure.choices()
        chosen = self.quarter.data
        if chosen and chosen not in quarters and chosen.upper() in quarters:
            self.quarter.data = chosen.upper()
        self.quarter.choices = everything + [(q, q) for q in quarters]

    def to_filter(self) -> PlanFilter:
        """The filter from the fields that validated (a bad value in one field drops only it)."""

        def ok(field) -> bool:
            return not field.errors and bool(field.data)

        return PlanFilter(
            municipality=self.municipality.data if ok(self.municipality) else None,
            category=self.category.data if ok(self.category) else None,
            area=PriorityArea(self.area.data) if ok(self.area) else None,
            reserved=bool(self.reserved.data),
            procedure=Procedure(self.procedure.data) if ok(self.procedure) else None,
            quarter=self.quarter.data if ok(self.quarter) else None,
            q=(self.q.data or "").strip() or None if ok(self.q) else None,
            sort=self.sort.data if ok(self.sort) else "month",
        )
