"""The document request form. Its variable inputs follow the clauses that apply (named ``v_<name>``
and read from the request by the view); the form class carries CSRF, language and options."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField

LANGUAGE_CHOICES = [("lt", "Lietuvių"), ("en", "English")]
PREFIX = "v_"


class DocumentForm(FlaskForm):
    language = SelectField(_l("Language of the document"), choices=LANGUAGE_CHOICES, default="lt")
    advance_payment = BooleanField(_l("An advance payment is foreseen"))
    #: the language and options the values on the page were filled for
    shown_language = HiddenField()
    shown_advance = HiddenField()


def posted_values(form_data) -> dict[str, str]:
    return {key[len(PREFIX):]: value for key, value in form_data.items() if key.startswith(PREFIX)}


class ActionForm(FlaskForm):
    """CSRF only: retry, PDF, library load."""
