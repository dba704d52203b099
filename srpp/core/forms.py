"""Form helpers shared by every area."""

from __future__ import annotations

from decimal import Decimal

import wtforms
from flask_wtf import FlaskForm
from wtforms import HiddenField

from srpp.core.errors import DomainError


class FiniteDecimalField(wtforms.DecimalField):
    """A DecimalField that takes numbers only: ``NaN``, ``sNaN`` and ``Infinity`` (which ``Decimal``
    reads) are refused like any other text, before a validator or the database meets them."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class VersionedForm(FlaskForm):
    """Carries the record version the user started editing from."""

    version = HiddenField()


def apply_domain_error(form: FlaskForm, err: DomainError) -> bool:
    """Attach a service-layer refusal to its field (or the form) so the page can show it.
    Returns True when it was attached to a field."""
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        field.errors = [*list(field.errors or []), err.message]
        return True
    form.form_errors.append(err.message)
    return False
