"""Admin-editable business parameters. Defaults are declared here with their type; the
``settings`` table holds what the admin changed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from srpp.core.errors import DomainError
from srpp.core.models import Setting
from srpp.core.permissions import require
from srpp.extensions import db


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    label: Any
    minimum: Any = None
    maximum: Any = None
    choices: tuple[str, ...] = ()


SPECS: dict[str, SettingSpec] = {}


def declare(key: str, type_: type, default: Any, label: Any, minimum: Any = None, maximum: Any = None,
            choices: tuple[str, ...] = ()) -> None:
    SPECS[key] = SettingSpec(key, type_, default, label, minimum, maximum, choices)


def get(key: str) -> Any:
    spec = SPECS[key]
    row = db.session.get(Setting, key)
    if row is None:
        return spec.default
    return spec.type(row.value) if spec.type is not Decimal else Decimal(str(row.value))


def set_value(actor: Any, key: str, raw: str) -> Any:
    require(actor, "admin.manage")
    spec = SPECS[key]
    try:
        value = spec.type(raw.strip().replace(",", ".")) if spec.type in (Decimal, float) else spec.type(raw.strip())
    except (ValueError, InvalidOperation, TypeError):
        raise DomainError(_("Not a valid value."), field=key) from None
    if isinstance(value, Decimal) and not value.is_finite() or isinstance(value, float) and not math.isfinite(value):
        raise DomainError(_("Not a valid value."), field=key)  # NaN and Infinity parse, but do not compare
    if spec.choices and value not in spec.choices:
        raise DomainError(_("Choose one of: %(choices)s.", choices=", ".join(spec.choices)), field=key)
    if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
        raise DomainError(_("The value must be between %(min)s and %(max)s.", min=spec.minimum, max=spec.maximum),
                          field=key)
    row = db.session.get(Setting, key)
    stored = str(value) if isinstance(value, Decimal) else value
    if row is None:
        db.session.add(Setting(key=key, value=stored))
    else:
        row.value = stored
    db.session.flush()
    return value


declare("plans.reserved_min_share", Decimal, Decimal("0.02"),
        _l("Lithuanian minimum reserved share of simplified procurement value (VPĮ 23(2))"), Decimal(0), Decimal(1))
declare("plans.review_months", int, 6, _l("Months after publication when a plan must be reviewed"), 1, 24)
declare("plans.review_warning_days", int, 14, _l("Days before the review date when officers are reminded"), 1, 90)
