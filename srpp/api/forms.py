"""Forms of the API tokens page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       render_kw={"autocomplete": "off", "placeholder": _l("e.g. finance system export")})
    can_write = BooleanField(_l("Write access (create and change plan items, import invoices)"))
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


class RevokeForm(FlaskForm):
    """Revoke one token; ``next`` brings an admin back to the user page."""

    next = HiddenField()
