"""Forms of the data protocol pages. The values are checked by ``services.parse_value`` (one rule for
the form and the upload); the form only carries them."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField

from srpp.core.forms import VersionedForm
from srpp.kpis.models import Indicator


def value_field(indicator_id: int) -> str:
    return f"value_{indicator_id}"


def note_field(indicator_id: int) -> str:
    return f"note_{indicator_id}"


class ValuesForm(VersionedForm):
    """One value and one note per indicator (fields added by ``values_form``)."""

    def value_of(self, indicator_id: int) -> Any:
        return self[value_field(indicator_id)]

    def note_of(self, indicator_id: int) -> Any:
        return self[note_field(indicator_id)]


def values_form(indicators: list[Indicator], formdata: Any = None, **data: Any) -> ValuesForm:
    """A form with the fields of these indicators; ``data``: initial values by field name."""

    class _Form(ValuesForm):
        pass

    for ind in indicators:
        # the fieldset's legend names the indicator; the field says what it takes
        setattr(_Form, value_field(ind.id), StringField(_l("Value"), render_kw={"inputmode": "decimal",
                                                                                "autocomplete": "off"}))
        setattr(_Form, note_field(ind.id), TextAreaField(_l("Note"), render_kw={"rows": 1}))
    if formdata is not None:
        return _Form(formdata=formdata)
    return _Form(formdata=None, data=data)


class UploadForm(VersionedForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a CSV or XLSX file."))])


class SubmitForm(VersionedForm):
    """Submit the values as saved (CSRF and version only)."""


class PeriodFilterForm(FlaskForm):
    """The half-year shown (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Half-year"), choices=[], validate_choice=False)


class OpenPeriodForm(FlaskForm):
    period = SelectField(_l("Half-year"), choices=[])
