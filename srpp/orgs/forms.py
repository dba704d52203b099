from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, StringField, TextAreaField, URLField
from wtforms.validators import Email, Length, NumberRange, Optional

from srpp.core.forms import FiniteDecimalField, VersionedForm


class MunicipalityContactForm(VersionedForm):
    contact_email = EmailField(_l("Procurement contact e-mail"),
                               validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=300)])
    procurement_note = TextAreaField(_l("Note for suppliers"), validators=[Optional(), Length(max=4000)])


class SupplierProfileForm(VersionedForm):
    description_lt = TextAreaField(_l("What we offer (Lithuanian)"), validators=[Optional(), Length(max=4000)])
    description_en = TextAreaField(_l("What we offer (English)"), validators=[Optional(), Length(max=4000)])
    staff_count = IntegerField(_l("Staff"), validators=[Optional(), NumberRange(min=0, max=100000)])
    max_contract_value = FiniteDecimalField(_l("Largest contract value we can take (EUR)"), places=2,
                                      validators=[Optional(), NumberRange(min=0, max=10**11)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(_l("Contact e-mail"),
                               validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
