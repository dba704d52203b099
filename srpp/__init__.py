"""SRPP manager: socially responsible public procurement for a group of municipalities."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, g, request

from srpp.config import PROJECT_ROOT, load_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(load_config(overrides))

    from srpp.core import logs

    logs.configure(app)

    import srpp.models  # noqa: F401  (every model registered before the first query)
    from srpp.extensions import babel, csrf, db, limiter, login_manager

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from srpp.core import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.register(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to open this page.")
    login_manager.login_message_category = "info"

    from srpp.core import celery as celery_setup

    celery_setup.init_app(app)

    _register_blueprints(app)
    _register_request_hooks(app)

    from srpp.core import errors, web

    errors.register(app)
    web.register(app)

    from srpp import cli

    cli.register(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from srpp.admin.views import bp as admin_bp
    from srpp.api.views import bp as api_bp
    from srpp.assets.views import bp as assets_bp
    from srpp.auth.views import bp as auth_bp
    from srpp.clauses.views import bp as clauses_bp
    from srpp.contracts.views import bp as contracts_bp
    from srpp.cpv.views import bp as cpv_bp
    from srpp.documents.views import bp as documents_bp
    from srpp.engagement.views import bp as engagement_bp
    from srpp.frameworks.calloff_views import bp as calloffs_bp
    from srpp.frameworks.views import bp as frameworks_bp
    from srpp.home.health import bp as health_bp
    from srpp.home.views import bp as home_bp
    from srpp.kpis.views import bp as kpis_bp
    from srpp.opendata.views import bp as opendata_bp
    from srpp.orgs.views import bp as orgs_bp
    from srpp.payments.supplier_views import bp as payments_io_bp
    from srpp.payments.views import bp as payments_bp
    from srpp.plans.io_views import bp as plan_io_bp
    from srpp.plans.views import bp as plans_bp
    from srpp.public.views import bp as public_bp
    from srpp.region.views import bp as region_bp
    from srpp.reporting.views import bp as reporting_bp
    from srpp.risks.views import bp as risks_bp
    from srpp.suppliers.views import bp as suppliers_bp
    from srpp.tenders.views import bp as tenders_bp

    for bp in (home_bp, health_bp, auth_bp, orgs_bp, cpv_bp, admin_bp, plans_bp, plan_io_bp, public_bp,
               region_bp, tenders_bp, suppliers_bp, engagement_bp, frameworks_bp, calloffs_bp, clauses_bp,
               documents_bp, contracts_bp, payments_bp, kpis_bp, risks_bp, assets_bp, reporting_bp, payments_io_bp,
               api_bp, opendata_bp):
        app.register_blueprint(bp)


def _register_request_hooks(app: Flask) -> None:
    from flask_login import current_user

    from srpp.core.audit import bind_actor
    from srpp.extensions import db

    @app.before_request
    def _bind_request_context() -> None:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]
        actor = current_user if current_user.is_authenticated else None
        bind_actor(db.session(), actor, request_id=g.request_id)

    @app.after_request
    def _security_headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response

    logging.getLogger("srpp").debug("request hooks registered")
