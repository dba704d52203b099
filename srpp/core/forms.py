"""Form helpers shared by every area."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField

from srpp.core.errors import DomainError


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
