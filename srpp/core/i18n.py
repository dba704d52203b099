"""Language choice and locale-aware formatting of dates, numbers and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"lt": "Lietuvių", "en": "English", "lv": "Latviešu"}


def select_locale() -> str:
    langs = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI, workers: the default unless forced (flask_babel.force_locale)
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in langs:
        return chosen
    return request.accept_languages.best_match(langs) or current_app.config["BABEL_DEFAULT_LOCALE"]


def money(amount: Decimal | int | None, currency: str = "EUR") -> str:
    """``1 234,50 €`` in Lithuanian, ``€1,234.50`` in English."""
    if amount is None:
        return "—"
    return format_currency(Decimal(amount), currency, locale=get_locale() or "lt")


def number(value: Decimal | int | float | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=fmt, locale=get_locale() or "lt")


def date(value: dt.date | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    return format_date(value, fmt)


def datetime(value: dt.datetime | None, fmt: str = "short") -> str:
    if value is None:
        return "—"
    return format_datetime(value, fmt)


def register(app) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(number, "number")
    app.add_template_filter(date, "date")
    app.add_template_filter(datetime, "datetime")
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
