"""Forms of market engagement (all posted with a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from srpp.engagement.services import MAX_NOTE_CHARS
from srpp.orgs.models import Supplier
from srpp.suppliers.models import MarketInterest


class InterestForm(FlaskForm):
    """Register (or update) the organisation's interest in a plan item or a lot."""

    supplier_id = SelectField(_l("Organisation"), coerce=int, choices=[])
    seeks_partners = BooleanField(_l("We look for consortium partners"))
    note = TextAreaField(_l("Note for the municipality (optional)"), validators=[Optional(), Length(max=MAX_NOTE_CHARS)],
                         render_kw={"rows": 3, "maxlength": MAX_NOTE_CHARS})

    def setup(self, organisations: list[Supplier], existing: MarketInterest | None = None) -> InterestForm:
        self.supplier_id.choices = [(s.id, s.legal_name) for s in organisations]
        if existing is not None and not self.is_submitted():
            self.supplier_id.data = existing.supplier_id
            self.seeks_partners.data = existing.seeks_partners
            self.note.data = existing.note
        elif self.supplier_id.data is None and organisations:
            self.supplier_id.data = organisations[0].id
        return self


class WithdrawForm(FlaskForm):
    """CSRF token for the withdraw buttons; ``next`` is where to go back to (a local path)."""

    next = HiddenField()
