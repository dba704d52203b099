"""Forms of the social-asset pages. They only parse what people type; every rule (required
criteria, hours used within hours available, non-negative figures, sensible years) is checked by
srpp.assets.services, which names the field of each problem."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from srpp.assets.models import AssetCondition, AssetKind, AssetState, ReportingFrequency, SocialAsset
from srpp.assets.services import AssetInput, AssignmentInput, AuditInput, ReportInput
from srpp.core.forms import VersionedForm
from srpp.orgs.models import PriorityArea
from srpp.plans.forms import AmountField, parse_amount


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class UsesField(SelectMultipleField):
    """Priority-area checkboxes; the service refuses unknown values with a clear message."""

    def pre_validate(self, form):
        pass


class AssetForm(VersionedForm):
    municipality_id = SelectField(_l("Municipality"), coerce=_int_or_none, choices=[])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=250)],
                       render_kw={"placeholder": "Buvusios mokyklos pastato I aukštas"})
    kind = SelectField(_l("Kind"), choices=[])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=300)])
    settlement = StringField(_l("Settlement"), validators=[DataRequired(), Length(max=120)])
    area_m2 = AmountField(_l("Area, m²"), validators=[Optional()])
    condition = SelectField(_l("Condition"), choices=[])
    accessibility = TextAreaField(_l("Accessibility features"), validators=[Optional(), Length(max=4000)],
                                  render_kw={"rows": 3})
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=8000)], render_kw={"rows": 3})
    suitable_uses = UsesField(_l("Suitable uses (priority areas)"), choices=[])
    available_from = DateField(_l("Available from"), validators=[Optional()])
    eligibility_criteria = TextAreaField(_l("Eligibility criteria"), validators=[DataRequired(), Length(max=8000)],
                                         render_kw={"rows": 4})
    impact_criteria = TextAreaField(_l("Impact criteria"), validators=[DataRequired(), Length(max=8000)],
                                    render_kw={"rows": 4})
    maintenance_duties = TextAreaField(_l("Maintenance duties"), validators=[DataRequired(), Length(max=8000)],
                                       render_kw={"rows": 4})
    permitted_adaptations = TextAreaField(_l("Permitted adaptations"), validators=[Optional(), Length(max=8000)],
                                          render_kw={"rows": 3})
    yearly_running_cost = AmountField(_l("Yearly running cost, EUR"), validators=[DataRequired()])
    hours_available_per_year = IntegerField(_l("Hours available a year"), validators=[Optional()])
    public = BooleanField(_l("Show on the public social-asset list"), default=True)

    def fill_choices(self, municipalities) -> None:
        self.municipality_id.choices = [(m.id, m.name) for m in municipalities]
        self.kind.choices = AssetKind.choices()
        self.condition.choices = AssetCondition.choices()
        self.suitable_uses.choices = PriorityArea.choices()

    def load(self, asset: SocialAsset) -> None:
        self.process(obj=asset)
        self.kind.data = asset.kind.value
        self.condition.data = asset.condition.value
        self.suitable_uses.data = [u.value for u in asset.suitable_uses]
        self.version.data = asset.version

    def to_input(self, municipality_id: int | None = None) -> AssetInput:
        return AssetInput(
            municipality_id=municipality_id or self.municipality_id.data,
            name=self.name.data or "", address=self.address.data or "", settlement=self.settlement.data or "",
            kind=AssetKind(self.kind.data), condition=AssetCondition(self.condition.data),
            eligibility_criteria=self.eligibility_criteria.data or "", impact_criteria=self.impact_criteria.data or "",
            maintenance_duties=self.maintenance_duties.data or "",
            yearly_running_cost=parse_amount(self.yearly_running_cost.data),
            area_m2=parse_amount(self.area_m2.data), accessibility=self.accessibility.data,
            description=self.description.data, permitted_adaptations=self.permitted_adaptations.data,
            hours_available_per_year=self.hours_available_per_year.data, available_from=self.available_from.data,
            suitable_uses=list(self.suitable_uses.data or []), public=bool(self.public.data),
        )


class AssignForm(FlaskForm):
    supplier_id = SelectField(_l("Organisation"), coerce=_int_or_none, choices=[])
    agreement_ref = StringField(_l("Agreement number"), validators=[Optional(), Length(max=100)])
    start_date = DateField(_l("From"), validators=[DataRequired()])
    end_date = DateField(_l("Until"), validators=[DataRequired()])
    obligations = TextAreaField(_l("Obligations of the organisation"), validators=[DataRequired(), Length(max=8000)],
                                render_kw={"rows": 4})
    reporting_frequency = SelectField(_l("Utilisation reports"), choices=[])

    def fill_choices(self, suppliers) -> None:
        self.supplier_id.choices = [("", "—")] + [(s.id, f"{s.legal_name} ({s.company_code})") for s in suppliers]
        self.reporting_frequency.choices = ReportingFrequency.choices()

    def to_input(self) -> AssignmentInput:
        return AssignmentInput(supplier_id=self.supplier_id.data, start_date=self.start_date.data,
                               end_date=self.end_date.data, obligations=self.obligations.data or "",
                               reporting_frequency=ReportingFrequency(self.reporting_frequency.data),
                               agreement_ref=self.agreement_ref.data)


class ReturnForm(VersionedForm):
    returned_on = DateField(_l("Returned on"), validators=[DataRequired()])
    return_note = TextAreaField(_l("Note (condition on return, reason for an early return)"),
                                validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})


class ReportForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired()])
    part = SelectField(_l("Period"), coerce=int, choices=[])
    hours_used = AmountField(_l("Hours used"), validators=[DataRequired()])
    hours_available = AmountField(_l("Hours available"), validators=[DataRequired()])
    unique_beneficiaries = IntegerField(_l("Unique beneficiaries (people served there)"), validators=[Optional()])
    costs_borne = AmountField(_l("Costs borne by the organisation, EUR"), validators=[Optional()])
    activities = TextAreaField(_l("Activities"), validators=[Optional(), Length(max=8000)], render_kw={"rows": 3})

    def fill_choices(self, frequency: ReportingFrequency) -> None:
        if frequency == ReportingFrequency.SEMIANNUAL:
            self.part.choices = [(1, _l("First half-year (January–June)")), (2, _l("Second half-year (July–December)"))]
        else:
            self.part.choices = [(0, _l("The whole year"))]

    def to_input(self) -> ReportInput:
        return ReportInput(year=self.year.data, part=self.part.data if self.part.data is not None else 0,
                           hours_used=parse_amount(self.hours_used.data),
                           hours_available=parse_amount(self.hours_available.data),
                           unique_beneficiaries=self.unique_beneficiaries.data,
                           costs_borne=parse_amount(self.costs_borne.data) if self.costs_borne.data else None,
                           activities=self.activities.data)


class AuditForm(FlaskForm):
    year = IntegerField(_l("Audited year"), validators=[DataRequired()])
    audited_on = DateField(_l("Audited on"), validators=[DataRequired()])
    utilisation_rate = AmountField(_l("Utilisation rate, % (empty: computed from the year's reports)"),
                                   validators=[Optional()])
    findings = TextAreaField(_l("Findings"), validators=[DataRequired(), Length(max=8000)], render_kw={"rows": 4})
    corrective_actions = TextAreaField(_l("Corrective actions"), validators=[Optional(), Length(max=8000)],
                                       render_kw={"rows": 3})
    auditor = StringField(_l("Auditor"), validators=[DataRequired(), Length(max=200)])

    def to_input(self) -> AuditInput:
        return AuditInput(year=self.year.data, audited_on=self.audited_on.data, findings=self.findings.data or "",
                          auditor=self.auditor.data or "", utilisation_rate=parse_amount(self.utilisation_rate.data),
                          corrective_actions=self.corrective_actions.data)


class StateForm(FlaskForm):
    target = HiddenField()


class FilterForm(FlaskForm):
    """The public list's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

    municipality = SelectField(_l("Municipality"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=[], validators=[Optional()])
    state = SelectField(_l("State"), choices=[], validators=[Optional()])
    use = SelectField(_l("Suitable use"), choices=[], validators=[Optional()])

    def fill_choices(self, municipalities, all_label) -> None:
        self.municipality.choices = [("", all_label)] + [(m.code, m.name) for m in municipalities]
        self.kind.choices = [("", all_label)] + AssetKind.choices()
        self.state.choices = [("", all_label)] + [(s.value, s.label) for s in AssetState]
        self.use.choices = [("", all_label)] + PriorityArea.choices()
