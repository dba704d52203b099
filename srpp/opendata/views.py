"""Blueprint ``opendata``: the OCDS release packages (public, no login) and ``flask ocds …``.

* ``GET /api/ocds/release-package.json?page=&page_size=&municipality=&since=&lang=``: a page of
  releases (``page_size`` at most 1000, capped above it: header ``X-Page-Size-Capped``);
  ``page_size=all`` streams every release (as ``release-package-full.json``). The OCDS 1.1 release
  package has no ``links`` member, so the pages link each other with an HTTP ``Link`` header
  (``first``, ``prev``, ``next``, ``last``) and tell the total in ``X-Total-Count``.
* ``GET /api/ocds/release-package-full.json?municipality=&since=&lang=``: all releases, streamed in
  constant memory.
* ``GET /api/ocds/releases/<ocid>.json``: a package with the release of one process.
"""

from __future__ import annotations

import datetime as dt
import sys
from urllib.parse import urlencode

import click
from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from flask_babel import gettext as _

from srpp.api.spec import ApiError, not_found
from srpp.extensions import csrf, db
from srpp.opendata import ocds, services

bp = Blueprint("opendata", __name__, url_prefix="/api/ocds", cli_group="ocds")
csrf.exempt(bp)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
CACHE = "public, max-age=300"
JSON_MIME = "application/json"


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return exc.response()


def _int(name: str, default: int, low: int = 1) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or int(raw) < low:
        raise ApiError(400, "invalid_parameter", _("%(param)s must be a whole number of at least %(low)d.",
                                                   param=name, low=low), parameter=name)
    return int(raw)


def _filters() -> services.Filters:
    since = request.args.get("since")
    since_at = None
    if since:
        try:
            since_at = dt.datetime.combine(dt.date.fromisoformat(since[:10]), dt.time(), dt.UTC) \
                if len(since) == 10 else dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "invalid_parameter", _("since must be an ISO date, e.g. 2026-01-31."),
                           parameter="since") from None
        if since_at.tzinfo is None:
            since_at = since_at.replace(tzinfo=dt.UTC)
    code, mid = request.args.get("municipality"), None
    if code:
        found = services.municipality_by_code(code[:20])
        if found is None:
            raise ApiError(400, "invalid_parameter", _("There is no municipality with the code “%(value)s”.",
                                                       value=code[:20]), parameter="municipality")
        mid = found.id
    return services.Filters(municipality_id=mid, since=since_at)


def _lang() -> str:
    lang = request.args.get("lang", "en")
    if lang not in ("en", "lt"):
        raise ApiError(400, "invalid_parameter", _("lang must be en or lt."), parameter="lang")
    return lang


def _url(endpoint_path: str, **params: object) -> str:
    query = {k: v for k, v in {**request.args.to_dict(), **params}.items() if v not in (None, "")}
    return current_app.config["BASE_URL"] + endpoint_path + (f"?{urlencode(query)}" if query else "")


def _stream(f: services.Filters, lang: str) -> Response:
    uri = _url(request.path)
    resp = Response(stream_with_context(services.full_package(uri, f, lang)), mimetype=JSON_MIME)
    resp.headers["Cache-Control"] = CACHE
    return resp


@bp.get("/release-package.json")
def release_package():
    f, lang = _filters(), _lang()
    if request.args.get("page_size") == "all":
        return _stream(f, lang)
    page = _int("page", 1)
    asked = _int("page_size", DEFAULT_PAGE_SIZE)
    size = min(asked, MAX_PAGE_SIZE)
    total, latest = services.summary(f)
    last = max(1, -(-total // size))
    items = list(services.releases(f, lang, offset=(page - 1) * size, limit=size))
    meta = services.package_meta(_url(request.path, page=page, page_size=size), latest)
    resp = jsonify(ocds.package(meta, items))
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    resp.headers["Link"] = ", ".join(f'<{_url(request.path, page=n, page_size=size)}>; rel="{rel}"'
                                     for rel, n in links.items())
    resp.headers["X-Total-Count"] = str(total)
    if asked > MAX_PAGE_SIZE:
        resp.headers["X-Page-Size-Capped"] = str(MAX_PAGE_SIZE)
    resp.headers["Cache-Control"] = CACHE
    if latest:
        resp.last_modified = latest
    return resp


@bp.get("/release-package-full.json")
def release_package_full():
    return _stream(_filters(), _lang())


@bp.get("/releases/<ocid>.json")
def process_releases(ocid: str):
    lang = _lang()
    f = services.find_process(ocid)
    items = list(services.releases(f, lang)) if f else []
    if not items:
        raise not_found(_("The contracting process %(ocid)s", ocid=ocid[:80]))
    meta = services.package_meta(_url(request.path), max(dt.datetime.fromisoformat(r["date"].replace("Z", "+00:00")) for r in items))
    resp = jsonify(ocds.package(meta, items))
    resp.headers["Cache-Control"] = CACHE
    return resp


# --- flask ocds … ---------------------------------------------------------------------------------

@bp.cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-")
@click.option("--municipality", help="only this municipality (code)")
def export_command(path: str, municipality: str | None) -> None:
    """Write the full release package (streamed) to PATH (default: standard output)."""
    with current_app.test_request_context():
        f = services.Filters(municipality_id=_cli_municipality(municipality))
        out = sys.stdout if path == "-" else open(path, "w", encoding="utf-8")  # noqa: SIM115
        try:
            for chunk in services.full_package(current_app.config["BASE_URL"] + "/api/ocds/release-package-full.json",
                                               f):
                out.write(chunk)
        finally:
            if out is not sys.stdout:
                out.close()
        db.session.rollback()


@bp.cli.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), required=False)
def validate_command(path: str | None) -> None:
    """Validate a release package file, or (without PATH) the full export of the database: the schema
    with the declared extensions, closed codelists, unique ids and references."""
    import json

    from srpp.opendata import validation

    if path:
        with open(path, encoding="utf-8") as fh:
            package = json.load(fh)
    else:
        with current_app.test_request_context():
            text = "".join(services.full_package(current_app.config["BASE_URL"], services.Filters()))
            db.session.rollback()
        package = json.loads(text)
    errors = validation.validate_package(package)
    for error in errors[:200]:
        click.echo(str(error), err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} problem(s) in {len(package.get('releases', []))} releases")
    click.echo(f"{len(package['releases'])} releases valid (OCDS 1.1 with {len(package.get('extensions', []))} "
               "extensions; codelists, ids and references checked)")


def _cli_municipality(code: str | None) -> int | None:
    if not code:
        return None
    m = services.municipality_by_code(code)
    if m is None:
        raise click.BadParameter(f"no municipality {code}", param_hint="--municipality")
    return m.id
