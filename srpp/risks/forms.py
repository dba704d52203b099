"""Forms of the risk register and the programme targets. They only parse what people type; the rules are
checked by srpp.risks.services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from srpp.core.forms import VersionedForm
from srpp.risks.models import Rating
from srpp.risks.services import ActionInput, ReviewInput


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class ReviewForm(VersionedForm):
    """A review of a risk (the version is the risk's), with an optional corrective action."""

    reviewed_on = DateField(_l("Review date"), validators=[DataRequired()])
    likelihood = SelectField(_l("Likelihood"), choices=[])
    impact = SelectField(_l("Impact"), choices=[])
    preventive_measures = TextAreaField(_l("Preventive measures (required for medium and high risks)"),
                                        validators=[Optional(), Length(max=4000)])
    reactive_action = TextAreaField(_l("Reactive action if the risk occurs"), validators=[Optional(), Length(max=4000)])
    responsible_unit = StringField(_l("Responsible unit"), validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])
    action_title = StringField(_l("Corrective action (optional)"), validators=[Optional(), Length(max=300)])
    action_owner_text = StringField(_l("Responsible for the action"), validators=[Optional(), Length(max=200)])
    action_owner_user_id = SelectField(_l("Person to notify (optional)"), coerce=_int_or_none, choices=[],
                                       validators=[Optional()])
    action_due_on = DateField(_l("Action due on"), validators=[Optional()])

    def fill_choices(self, users) -> None:
        self.likelihood.choices = Rating.choices()
        self.impact.choices = Rating.choices()
        self.action_owner_user_id.choices = [("", "—")] + [(u.id, f"{u.display_name} <{u.email}>") for u in users]

    def to_input(self) -> ReviewInput:
        action = None
        if (self.action_title.data or "").strip() or self.action_due_on.data or self.action_owner_text.data:
            action = ActionInput(title=self.action_title.data or "", owner_text=self.action_owner_text.data or "",
                                 due_on=self.action_due_on.data, owner_user_id=self.action_owner_user_id.data)
        return ReviewInput(reviewed_on=self.reviewed_on.data, likelihood=self.likelihood.data or "",
                           impact=self.impact.data or "", preventive_measures=self.preventive_measures.data,
                           reactive_action=self.reactive_action.data, responsible_unit=self.responsible_unit.data,
                           note=self.note.data, action=action)


class ActionForm(VersionedForm):
    title = StringField(_l("Corrective action"), validators=[DataRequired(), Length(max=300)])
    owner_text = StringField(_l("Responsible (unit or person)"), validators=[Optional(), Length(max=200)])
    owner_user_id = SelectField(_l("Person to notify (optional)"), coerce=_int_or_none, choices=[],
                                validators=[Optional()])
    due_on = DateField(_l("Due on"), validators=[DataRequired()])

    def fill_choices(self, users) -> None:
        self.owner_user_id.choices = [("", "—")] + [(u.id, f"{u.display_name} <{u.email}>") for u in users]

    def to_input(self) -> ActionInput:
        return ActionInput(title=self.title.data or "", owner_text=self.owner_text.data or "",
                           due_on=self.due_on.data, owner_user_id=self.owner_user_id.data)


class CompleteForm(VersionedForm):
    completed_on = DateField(_l("Completed on"), validators=[DataRequired()])
    completion_note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class TargetMarkForm(VersionedForm):
    done_on = DateField(_l("Met on"), validators=[DataRequired()])
    evidence = TextAreaField(_l("Evidence"), validators=[DataRequired(), Length(max=4000)])


class TargetReopenForm(VersionedForm):
    pass
