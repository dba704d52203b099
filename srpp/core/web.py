"""Web helpers: template globals (navigation per role, language form), safe redirects, pagination."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, flash, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from srpp.core import permissions


def attempt(action: Callable[[], Any], success: str | None = None) -> bool:
    """Run a service call and commit; on a refusal roll back and flash the reason. Flashes
    ``success`` when it worked. For the views whose only outcome is a redirect."""
    from srpp.core.errors import DomainError
    from srpp.extensions import db

    try:
        action()
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return False
    if success:
        flash(success, "success")
    return True


def safe_next_url(target: str | None) -> str | None:
    """Only local paths are followed after login or a language switch."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@dataclass
class NavItem:
    label: Any
    endpoint: str
    kwargs: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return url_for(self.endpoint, **(self.kwargs or {}))

    @property
    def active(self) -> bool:
        return request.endpoint == self.endpoint


#: (label, endpoint, permission or None for every logged-in user); later areas append here
NAV: list[tuple[Any, str, str | None]] = [
    (_l("Home"), "home.index", None),
    (_l("Municipalities"), "orgs.municipalities", None),
    (_l("Organisations"), "orgs.suppliers", None),
    (_l("CPV codes"), "cpv.browse", None),
    (_l("Audit log"), "admin.audit", "audit.view"),
    (_l("Users"), "admin.users", "admin.manage"),
    (_l("Workers"), "admin.workers", "admin.manage"),
    (_l("Settings"), "admin.settings_page", "admin.manage"),
    (_l("Opportunities"), "public.opportunities", None),
    (_l("Saved searches"), "public.saved_searches", "search.save"),
    (_l("Regional plan"), "region.plan", "region.view"),
    (_l("Reserved share"), "region.reserved_share", "region.view"),
    (_l("Directory"), "suppliers.directory", None),
    (_l("Status review"), "suppliers.review", "status.decide"),
    # tenders: municipal staff and regional readers ("tender.view_draft" needs a municipality object)
    (_l("Tenders"), "tenders.index", "region.view"),
    # market engagement: an SEO member's organisation's interests
    (_l("Our interests"), "engagement.my_interests", "interest.list"),
    # inter-municipal framework agreements: municipal staff and regional readers
    (_l("Frameworks"), "frameworks.index", "framework.view"),
    # framework agreements: the council's overview of all frameworks (item 7 of issue #5)
    (_l("Framework overview"), "calloffs.overview", "framework.view"),
    # clause library and generated documents (issue #6)
    (_l("Clause library"), "clauses.index", "clause.view"),
    (_l("Documents"), "documents.index", "clause.view"),
    # contracts, invoices and payments (issue #7)
    (_l("Contracts"), "contracts.index", "region.view"),
    (_l("Payments"), "payments.dashboard", "payments.dashboard"),
    (_l("Import payments"), "payments_io.import_payments", "invoice.import"),
    (_l("Our payments"), "payments_io.mine", "supplier.payments"),
    # indicators, risks and social assets (issue #8)
    (_l("Indicators"), "kpis.dashboard", "indicator.view"),
    (_l("Social assets"), "assets.index", None),
    (_l("Data protocol"), "reporting.index", "reporting.view"),
    (_l("Risk register"), "risks.index", "risk.view"),
]

PUBLIC_NAV: list[tuple[Any, str]] = [
    (_l("Home"), "home.index"),
    (_l("Municipalities"), "orgs.municipalities"),
    (_l("Opportunities"), "public.opportunities"),
    (_l("Directory"), "suppliers.directory"),
    (_l("Payment reports"), "payments.reports"),
    (_l("Social assets"), "assets.index"),
    (_l("Progress"), "kpis.scoreboard"),
]


def navigation() -> list[NavItem]:
    if not current_user.is_authenticated:
        return [NavItem(label, endpoint) for label, endpoint in PUBLIC_NAV]
    return [
        NavItem(label, endpoint)
        for label, endpoint, perm in NAV
        if perm is None or permissions.can(current_user, perm)
    ]


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Any, page: int, per_page: int, total: int | None = None) -> Page:
    """A page of ``stmt``'s rows; ``total``: the number of rows when the caller knows it already."""
    from srpp.extensions import db

    page = max(1, page)
    total = db.count(stmt) if total is None else total
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total)


def page_arg(name: str = "page") -> int:
    try:
        return max(1, int(request.args.get(name, "1")))
    except ValueError:
        return 1


def url_with(**changes: Any) -> str:
    """The current URL with some query parameters replaced (for filters and pagination)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def register(app: Flask) -> None:
    from srpp.auth.forms import LanguageForm

    app.jinja_env.globals["url_with"] = url_with

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from flask_babel import get_locale

        # formdata=None: never re-read the request body here (error pages of oversized uploads)
        lang_form = LanguageForm(formdata=None, locale=str(get_locale()))
        return {
            "nav_items": navigation(),
            "language_form": lang_form,
            "can": lambda action, obj=None: permissions.can(current_user, action, obj),
            "current_locale": str(get_locale()),
        }
