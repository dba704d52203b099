"""Forms of the public pipeline: the GET filter form (no CSRF: it changes nothing) and the
saved-search form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from srpp.orgs.models import PriorityArea
from srpp.public.services import SORTS, FilterLookups, Filters


class FilterForm(Form):
    """Renders the filters with the query-string names; ``srpp.public.services.parse_filters``
    validates them (the same code serves the page, the feeds and the digests)."""

    q = StringField(_l("Words in the title or notes"), render_kw={"type": "search", "maxlength": 200})
    municipality = SelectField(_l("Municipality"), choices=[])
    category = SelectField(_l("Service category"), choices=[])
    area = SelectField(_l("Priority area"), choices=[])
    quarter = StringField(_l("Planned launch quarter"), render_kw={"placeholder": "2027-Q1", "size": 8})
    min_value = StringField(_l("Value from (EUR)"), render_kw={"inputmode": "decimal", "placeholder": "10 000"})
    max_value = StringField(_l("Value up to (EUR)"), render_kw={"inputmode": "decimal", "placeholder": "100 000"})
    reserved = BooleanField(_l("Reserved opportunities only"), render_kw={"value": "1"})
    sort = SelectField(_l("Sort by"), choices=[])

    def __init__(self, formdata, lookups: FilterLookups, filters: Filters) -> None:
        super().__init__(formdata)
        self.municipality.choices = [("", _l("All municipalities"))] + [(m.code, m.name) for m in lookups.municipalities]
        self.category.choices = [("", _l("All categories"))] + [(c.key, c.name) for c in lookups.categories]
        self.area.choices = [("", _l("All priority areas"))] + PriorityArea.choices()
        self.sort.choices = [(key, label) for key, label in SORTS.items()]
        if not self.sort.data:
            self.sort.data = filters.sort
        for name, message in filters.errors.items():
            f = getattr(self, name, None)
            if f is not None:
                f.errors = [message]


class SaveSearchForm(FlaskForm):
    name = StringField(_l("Name of the search"), validators=[DataRequired(), Length(max=120)],
                       render_kw={"maxlength": 120, "placeholder": _l("e.g. Reserved care services in Rokiškis")})
    query = HiddenField()


class DeleteSearchForm(FlaskForm):
    """CSRF token for the delete buttons."""
