from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from srpp.core.models import AuditAction


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter form

    entity_type = SelectField(_l("Record type"), choices=[], validators=[Optional()])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254)])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    municipality_id = SelectField(_l("Municipality"), choices=[], coerce=lambda v: int(v) if v else None,
                                  validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def fill_choices(self, entity_types: list[str], municipalities) -> None:
        self.entity_type.choices = [("", _l("All"))] + [(t, t) for t in entity_types]
        self.action.choices = [("", _l("All"))] + AuditAction.choices()
        self.municipality_id.choices = [("", _l("All"))] + [(m.id, m.name) for m in municipalities]


class EraseForm(FlaskForm):
    """Erasing a person's data cannot be undone: the administrator types the account's e-mail address."""

    confirm = StringField(_l("Type the account's e-mail address to confirm"),
                          validators=[DataRequired(), Length(max=254)])
