"""The ``/api/v1`` blueprint: the OpenAPI document, its documentation page, and the operations
(declared in ``endpoints.py`` for reads and ``writes.py`` for writes, through ``spec.operation``)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, render_template, request
from flask_limiter.util import get_remote_address

from srpp.api import spec
from srpp.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# token-authenticated writes carry no cookie, so CSRF does not apply; cookie sessions may only read
csrf.exempt(bp)

API_TITLE = "SRPP manager API"
API_VERSION = "1.0.0"
API_DESCRIPTION = (
    "Plans, tenders, lots, framework agreements, call-offs, contracts, payment milestones, invoices and "
    "indicators of the region's socially responsible public procurement. Reads are open where the data is "
    "public; invoices and drafts need a login or an API token. Writes need an API token with write access. "
    "Amounts are decimal strings in euro; dates are ISO 8601."
)


def _rate_key() -> str:
    header = request.headers.get("Authorization", "")
    return "tok:" + header[-16:] if header else "ip:" + (get_remote_address() or "")


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_key)(bp)


def document() -> dict:
    return spec.openapi_document("/api/v1/", API_TITLE, API_VERSION, API_DESCRIPTION)


@bp.get("/openapi.json")
@limiter.exempt
def openapi_json():
    response = jsonify(document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
@limiter.exempt
def docs():
    """The browsable documentation, rendered from the same OpenAPI document."""
    from srpp.api import docs as api_docs

    base = request.url_root.rstrip("/")
    return render_template("api/docs.html", docs=api_docs.build(document(), base), base_url=base,
                           rate_limit=current_app.config["API_RATE_LIMIT"], max_page_size=spec.MAX_PAGE_SIZE)


@bp.after_request
def _no_store(response):
    if request.endpoint != "api.openapi_json" and getattr(g, "api_token_id", None):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# the operations register themselves on ``bp`` when imported
from srpp.api import endpoints, writes  # noqa: E402,F401
