from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGUES = Path(__file__).resolve().parent.parent / "srpp" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalogue(lang: str):
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=lang)


def _template_ids() -> set[str]:
    with open(CATALOGUES / "messages.pot", "rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", ["lt", "lv"])
def test_every_message_is_translated(lang):
    cat = _catalogue(lang)
    problems = []
    for msg in cat:
        if not msg.id:
            continue
        strings = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
        if msg.fuzzy:
            problems.append(f"fuzzy: {msg.id!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {msg.id!r}")
        src = msg.id if isinstance(msg.id, str) else msg.id[0]
        for s in strings:
            if set(PLACEHOLDER.findall(src)) - {"%(num)d"} != set(PLACEHOLDER.findall(s)) - {"%(num)d"}:
                problems.append(f"placeholders differ: {msg.id!r}")
    assert not problems, "\n".join(problems[:50])


@pytest.mark.parametrize("lang", ["lt", "lv", "en"])
def test_catalogue_is_up_to_date_with_the_template(lang):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(lang) if m.id}
    missing = _template_ids() - ids
    assert not missing, f"run `make extract-messages`: {sorted(missing)[:10]}"


def test_money_and_dates_follow_the_locale(app):
    import datetime as dt

    from flask_babel import force_locale

    from srpp.core import i18n

    with app.test_request_context("/"):
        with force_locale("lt"):
            assert i18n.money(Decimal("1234.50")) == "1\xa0234,50\xa0€"
            assert i18n.date(dt.date(2027, 3, 1)) == "2027-03-01"
        with force_locale("en"):
            assert i18n.money(Decimal("1234.50")) == "€1,234.50"


def test_language_switch_is_remembered_for_the_user(as_user, ctx):
    from sqlalchemy import select

    from srpp.auth.models import User

    client = as_user("officer.rok@demo.srpp.lt")
    client.post("/language", data={"locale": "en", "next": "/"})
    assert "Rokiškis District Municipality" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "lt", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Rokiškio rajono savivaldybė" in page
    assert 'lang="lt"' in page
    ctx.expire_all()
    assert ctx.scalar(select(User.locale).where(User.email == "officer.rok@demo.srpp.lt")) == "lt"


def test_anonymous_language_follows_session_and_header(client):
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="en"' in page
    client.post("/language", data={"locale": "lt", "next": "/"})
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="lt"' in page


def test_unsafe_next_is_ignored(client):
    resp = client.post("/language", data={"locale": "lt", "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/"


def test_every_template_string_is_in_the_catalogue():
    """pybabel skips folders whose names start with "_" or "."; nothing may hide there."""
    from jinja2.ext import babel_extract

    root = CATALOGUES.parent.parent / "templates"
    found: set[str] = set()
    for path in root.rglob("*.html"):
        with open(path, "rb") as fh:
            for _line, _func, message, _comments in babel_extract(fh, ["_", "gettext", "ngettext"], [], {}):
                found.add(message if isinstance(message, str) else message[0])
    missing = sorted(found - _template_ids())
    assert not missing, f"run `make extract-messages`: {missing[:10]}"
