"""The council's payment dashboard, the payment compliance reports and the reference-rate page
(srpp/payments/views.py): the pages show what srpp/payments/figures.py and reports.py compute, and
only to the people who may see them.

The data are made through the services inside the test's rolled-back transaction, in 2023 H1 (before
the demo's invoices), so that the figures can be checked by hand:

Biržai, VšĮ "Gėris rankose" (an SEO), 30-day term, invoices received on Monday 6 February 2023 (due
Wednesday 8 March 2023), EUR 1 000 each, paid after 10, 45 (15 days late) and 70 days (40 days late);
one of EUR 500 received on Monday 8 May 2023 (due 7 June) and paid on 17 July 2023, after the period
(40 days late); and, from UAB "Regiono transportas" (a company), EUR 2 000 received on 6 February 2023
and paid after 21 days. One work stoppage began on 1 March 2023.

Statutory interest (ECB rate + 8 points: 2023 H1 2.50 % → 10.50 %, 2023 H2 4.00 % → 12.00 %):
  1 000 × 10.50 % × 15 / 365 = 4.3151 → 4.32;  1 000 × 10.50 % × 40 / 365 = 11.5068 → 11.51;
  500 × (10.50 % × 23 + 12.00 % × 17) / 365 = 6.1027 → 6.10 (23 days in June, 17 in July);
  together 21.93; compensation 3 × EUR 40 = 120.00.
All suppliers: days to pay 10, 21, 45, 70: average 36.5, median 33.0, 90th percentile 45 + 0.7 × 25 = 62.5;
  1–30 days 2 of 4 (50 %), 31–60 1 (25 %), 61+ 1 (25 %); due in H1 5 500.00, not paid in H1 500.00 (9.1 %).
SEOs only: 10, 45, 70: average 41.7, median 45.0, 90th percentile 65.0; unpaid 500 of 3 500 (14.3 %).
Other suppliers: one invoice, 21 days.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.core.i18n import money, number
from srpp.region.services import percent

COUNCIL = "council@demo.srpp.lt"
ADMIN = "admin@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER = "officer.rok@demo.srpp.lt"
FINANCE_BIR = "finance.bir@demo.srpp.lt"
FINANCE_ROK = "finance.rok@demo.srpp.lt"

H1_START, H1_END = dt.date(2023, 1, 1), dt.date(2023, 6, 30)


# --- helpers ----------------------------------------------------------------------------------------------

def _user(ctx, email):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code):
    from srpp.orgs.models import Supplier

    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _row(page: str, row_id: str) -> dict[str, str]:
    """The figure cells of one table row, by data-figure name, as plain text."""
    m = re.search(rf'<tr id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', page, re.S)
    assert m, f"no row {row_id}"
    return {name: _text(cell) for name, cell in re.findall(r'<td class="num" data-figure="(\w+)">(.*?)</td>',
                                                            m.group(1), re.S)}


def _expected(f, limit: int = 30) -> dict[str, str]:
    """What the page must show for a Figures (formatted as the templates do, in English)."""
    avg = number(f.avg_days, 1) + (f" over {limit}" if f.avg_days is not None and f.avg_days > limit else "")
    return {"paid_count": str(f.paid_count), "avg_days": avg, "median_days": number(f.median_days, 1),
            "p90_days": number(f.p90_days, 1), "share_30": percent(f.share_30), "share_60": percent(f.share_60),
            "share_over_60": percent(f.share_over_60), "unpaid_share": percent(f.unpaid_share),
            "interest": money(f.interest), "compensation": money(f.compensation), "late_count": str(f.late_count),
            "stoppages": str(f.stoppages)}


def _make_contract(ctx, finance, supplier, title):
    from srpp.contracts import services as contracts
    from srpp.orgs.services import municipality_by_code

    bir = municipality_by_code("BIR")
    return contracts.create_contract(
        finance, contracts.ContractInput(municipality_id=bir.id, supplier_id=supplier.id, title=title,
                                         value=Decimal("20000.00"), start_date=dt.date(2023, 1, 2),
                                         end_date=dt.date(2023, 12, 31), main_cpv="85312100-0"),
        contracts.TermsInput())


def _invoice(finance, contract, number_, amount, received, paid=None):
    from srpp.payments import services

    inv = services.record_invoice(finance, contract, services.InvoiceInput(
        number=number_, amount=Decimal(amount), received_on=received, e_invoice_ref=f"EINV-{number_}"))
    if paid is not None:
        services.record_payment(finance, inv, paid, Decimal(amount), reference=f"P-{number_}")
    return inv


@pytest.fixture()
def biržai(ctx):
    """The hand-checked data set of the module docstring (committed to the test's transaction)."""
    from srpp.contracts import services as contracts
    from srpp.orgs.services import municipality_by_code
    from srpp.payments import figures

    bir = municipality_by_code("BIR")
    before = figures.compute(H1_START, H1_END, bir.id)
    assert before.paid_count == 0 and before.due_sum == 0, "Biržai already has invoices in 2023 H1"
    finance = _user(ctx, FINANCE_BIR)
    seo_contract = _make_contract(ctx, finance, _supplier(ctx, "990000002"), "Test: home care (dashboard)")
    company_contract = _make_contract(ctx, finance, _supplier(ctx, "990000013"), "Test: transport (dashboard)")
    received = dt.date(2023, 2, 6)
    invoices = {
        "ten": _invoice(finance, seo_contract, "TPD-10", "1000.00", received, dt.date(2023, 2, 16)),
        "late15": _invoice(finance, seo_contract, "TPD-45", "1000.00", received, dt.date(2023, 3, 23)),
        "late40": _invoice(finance, seo_contract, "TPD-70", "1000.00", received, dt.date(2023, 4, 17)),
        "after": _invoice(finance, seo_contract, "TPD-JUL", "500.00", dt.date(2023, 5, 8), dt.date(2023, 7, 17)),
        "company": _invoice(finance, company_contract, "TPD-21", "2000.00", received, dt.date(2023, 2, 27)),
    }
    contracts.report_stoppage(finance, seo_contract, dt.date(2023, 3, 1), "Test: payments late, staff unpaid")
    ctx.commit()
    return {"municipality": bir, "invoices": invoices, "contract": seo_contract}


# --- the hand-checked data set ----------------------------------------------------------------------------

def test_the_data_set_is_what_the_docstring_says(ctx, biržai):
    from srpp.payments import figures

    inv = biržai["invoices"]
    assert [inv[k].days_to_pay for k in ("ten", "late15", "late40", "company")] == [10, 45, 70, 21]
    assert (inv["late15"].due_date, inv["after"].due_date) == (dt.date(2023, 3, 8), dt.date(2023, 6, 7))
    assert [inv[k].interest for k in ("late15", "late40", "after")] == [Decimal("4.32"), Decimal("11.51"),
                                                                         Decimal("6.10")]
    f = figures.compute(H1_START, H1_END, biržai["municipality"].id)
    assert (f.paid_count, f.avg_days, f.median_days, f.p90_days) == (4, Decimal("36.5"), Decimal("33.0"),
                                                                      Decimal("62.5"))
    assert (f.within_30, f.within_60, f.over_60) == (2, 1, 1)
    assert (f.due_sum, f.unpaid_due_sum, f.unpaid_share) == (Decimal("5500.00"), Decimal("500.00"), Decimal("0.0909"))
    assert (f.interest, f.compensation, f.late_count, f.stoppages) == (Decimal("21.93"), Decimal("120.00"), 3, 1)


# --- the dashboard -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", [COUNCIL, FINANCE_ROK, FINANCE_BIR, ADMIN])
def test_the_dashboard_shows_the_computed_figures(client, as_user, ctx, biržai, email):
    from srpp.orgs.services import municipalities
    from srpp.payments import figures

    as_user(email)
    resp = client.get("/payments/dashboard?period=2023H1")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    bir = biržai["municipality"]
    shown = _row(page, "muni-BIR")
    # by hand (module docstring)
    assert shown == {"paid_count": "4", "avg_days": "36.5 over 30", "median_days": "33.0", "p90_days": "62.5",
                     "share_30": "50%", "share_60": "25%", "share_over_60": "25%", "unpaid_share": "9.1%",
                     "interest": "€21.93", "compensation": "€120.00", "late_count": "3", "stoppages": "1"}
    # and exactly what figures.compute says, for every municipality and the region
    by_id = {f.municipality_id: f for f in figures.compute(H1_START, H1_END, by_municipality=True)}
    for m in municipalities():
        f = by_id.get(m.id) or figures.Figures(H1_START, H1_END, m.id)
        assert _row(page, f"muni-{m.code}") == _expected(f), m.code
    assert _row(page, "muni-region") == _expected(figures.compute(H1_START, H1_END))
    assert by_id[bir.id].paid_count == 4
    assert 'href="/payments/dashboard/BIR?period=2023H1&amp;supplier_type=all"' in page
    # the comparison chart: Biržai over the 30-day line, said in words, and the line itself
    assert "36.5 days, over the limit" in page
    assert "30-day legal limit" in page
    assert '<option selected value="2023H1">2023 H1</option>' in page


def test_the_supplier_type_filter(client, as_user, ctx, biržai):
    from srpp.payments import figures

    as_user(COUNCIL)
    seo = _row(client.get("/payments/dashboard?period=2023H1&supplier_type=seo").get_data(as_text=True), "muni-BIR")
    assert (seo["paid_count"], seo["avg_days"], seo["median_days"], seo["p90_days"], seo["unpaid_share"]) == (
        "3", "41.7 over 30", "45.0", "65.0", "14.3%")
    assert seo == _expected(figures.compute(H1_START, H1_END, biržai["municipality"].id, "seo"))
    other = _row(client.get("/payments/dashboard?period=2023H1&supplier_type=other").get_data(as_text=True),
                 "muni-BIR")
    assert (other["paid_count"], other["avg_days"], other["share_30"], other["stoppages"]) == ("1", "21.0", "100%",
                                                                                               "0")
    # an unknown supplier type is "all"
    assert _row(client.get("/payments/dashboard?period=2023H1&supplier_type=x").get_data(as_text=True),
                "muni-BIR")["paid_count"] == "4"


def test_the_default_period_is_the_last_completed_half_year(client, as_user, ctx):
    from srpp.payments import calc

    as_user(COUNCIL)
    page = client.get("/payments/dashboard").get_data(as_text=True)
    start = calc.half_year(calc.half_year(dt.date.today())[0] - dt.timedelta(days=1))[0]
    label = calc.half_year_label(start)
    assert f"The region in {label}" in _text(page)
    assert "to date" not in _text(page.split('id="h-region"')[1][:200])


def test_the_running_half_year_is_counted_to_date(client, as_user, ctx):
    from srpp.payments import calc

    as_user(COUNCIL)
    today = dt.date.today()
    start = calc.half_year(today)[0]
    key = f"{start.year}H{1 if start.month == 1 else 2}"
    text = _text(client.get(f"/payments/dashboard?period={key}").get_data(as_text=True))
    assert f"The region in {calc.half_year_label(start)} (to date)" in text
    assert "is still running: the figures count the invoices paid and falling due up to today" in text


@pytest.mark.parametrize("bad", ["garbage", "2024H3", "2099H1", "1850H1"])
def test_a_bad_period_falls_back_with_a_message(client, as_user, ctx, bad):
    from srpp.payments import calc

    as_user(COUNCIL)
    resp = client.get(f"/payments/dashboard?period={bad}")
    assert resp.status_code == 200
    text = _text(resp.get_data(as_text=True))
    start = calc.half_year(calc.half_year(dt.date.today())[0] - dt.timedelta(days=1))[0]
    assert f"There is no half-year “{bad}” to show" in text
    assert f"The region in {calc.half_year_label(start)}" in text


def test_the_trend_chart_holds_four_half_years(client, as_user, ctx, biržai):
    as_user(COUNCIL)
    page = client.get("/payments/dashboard/BIR?period=2023H2").get_data(as_text=True)
    # the chart's data table: 2022 H1 … 2023 H2, Biržai then the region
    table = page.split('id="municipality-trend-days-title"')[1]
    rows = re.findall(r'<tr><th scope="row">(\d{4} H[12])</th><td class="num">(.*?)</td>', table)
    assert [label for label, _v in rows[:4]] == ["2022 H1", "2022 H2", "2023 H1", "2023 H2"]
    assert dict(rows[:4])["2023 H1"] == "36.5 days"
    assert "Average days to pay, 2022 H1 – 2023 H2" in page


def test_the_municipality_page_lists_late_and_open_invoices(client, as_user, ctx, biržai):
    from srpp.payments import figures

    inv = biržai["invoices"]
    as_user(FINANCE_BIR)
    resp = client.get("/payments/dashboard/BIR?period=2023H1")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    f = figures.compute(H1_START, H1_END, biržai["municipality"].id)
    assert _row(page, "muni-BIR") == _expected(f)
    late = re.search(r'<table class="table pay-invoices" id="late-paid">(.*?)</table>', page, re.S).group(1)
    # paid late in 2023 H1: the 45- and 70-day invoices (the July payment falls in H2), newest first
    assert re.findall(r'<tr id="late-paid-(\d+)">', late) == [str(inv["late40"].id), str(inv["late15"].id)]
    assert f'href="/invoices/{inv["late40"].id}"' in late
    assert "€11.51" in late and "€40.00" in late
    assert client.get(f"/invoices/{inv['late40'].id}").status_code == 200
    # the ROK finance officer sees Biržai's figures, not its invoices; an unknown code is 404
    as_user(FINANCE_ROK)
    page = client.get("/payments/dashboard/BIR?period=2023H1").get_data(as_text=True)
    assert _row(page, "muni-BIR") == _expected(f)
    assert 'id="late-paid"' not in page and 'id="no-invoice-list"' in page
    assert client.get("/payments/dashboard/XXX").status_code == 404


@pytest.mark.parametrize("email", [SEO, OFFICER])
def test_seo_members_and_procurement_officers_get_403(client, as_user, ctx, email):
    as_user(email)
    assert client.get("/payments/dashboard").status_code == 403
    assert client.get("/payments/dashboard/BIR").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, ctx):
    for url in ("/payments/dashboard", "/payments/dashboard/BIR", "/payments/rates",
                "/payments/municipalities/BIR/reports"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    assert client.get("/payments/reports").status_code == 200


# --- reports -----------------------------------------------------------------------------------------------

def _docx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode("utf-8"))


def test_the_report_flow_prepare_approve_publish(client, as_user, ctx, biržai):
    from srpp.core.models import JobState
    from srpp.documents import services as documents
    from srpp.payments.models import PaymentReport, ReportState

    bir = biržai["municipality"]
    as_user(FINANCE_BIR)
    page = client.get("/payments/municipalities/BIR/reports").get_data(as_text=True)
    assert 'value="2023H1"' in page
    resp = client.post("/payments/municipalities/BIR/reports", data={"period": "2023H1", "language": "en"})
    assert resp.status_code == 302
    report = ctx.scalar(select(PaymentReport).where(PaymentReport.municipality_id == bir.id,
                                                    PaymentReport.period_start == H1_START))
    assert resp.headers["Location"].endswith(f"/payments/reports/{report.id}")
    assert report.state == ReportState.DRAFT
    assert (report.figures["avg_days"], report.figures["paid_count"], report.figures["interest"]) == ("36.5", 4,
                                                                                                       "21.93")
    draft_doc = report.document
    assert draft_doc is not None and draft_doc.job.state == JobState.DONE and draft_doc.language == "en"
    assert "Draft: not yet approved" in _docx_text(documents.content(draft_doc, "docx"))

    page = client.get(f"/payments/reports/{report.id}").get_data(as_text=True)
    text = _text(page)
    assert "Average days to pay 36.5" in text and "Statutory interest owed €21.93" in text
    assert "The document is ready (English)." in text

    # a draft is not public: not listed, 404 for anonymous visitors, 403 for other users
    client.post("/logout")
    assert client.get(f"/payments/reports/{report.id}").status_code == 404
    assert client.get(f"/payments/reports/{report.id}/document").status_code == 404
    assert f'id="report-{report.id}"' not in client.get("/payments/reports").get_data(as_text=True)
    as_user(SEO)
    assert client.get(f"/payments/reports/{report.id}").status_code == 403
    as_user(COUNCIL)
    assert client.get(f"/payments/reports/{report.id}").status_code == 200
    assert client.post(f"/payments/reports/{report.id}/approve", data={
        "approver_name": "X", "approver_role": "Y", "approved_on": dt.date.today().isoformat(),
        "version": report.version}).status_code == 403

    # approving needs a name and a role
    as_user(FINANCE_BIR)
    today = dt.date.today().isoformat()
    for data, message in (({"approver_name": "", "approver_role": "Head of Finance"},
                           "Give the name of the approving officer."),
                          ({"approver_name": "Rūta Biržietė", "approver_role": " "},
                           "Give the approving officer's role.")):
        resp = client.post(f"/payments/reports/{report.id}/approve",
                           data={**data, "approved_on": today, "version": report.version})
        assert resp.status_code == 200
        assert message in _text(resp.get_data(as_text=True))
        ctx.expire_all()
        assert ctx.get(PaymentReport, report.id).state == ReportState.DRAFT
    resp = client.post(f"/payments/reports/{report.id}/approve", data={
        "approver_name": "Rūta Biržietė", "approver_role": "Head of Finance", "approved_on": today,
        "version": report.version})
    assert resp.status_code == 302
    ctx.expire_all()
    report = ctx.get(PaymentReport, report.id)
    assert (report.state, report.approver_name, report.approver_role) == (ReportState.APPROVED, "Rūta Biržietė",
                                                                          "Head of Finance")
    # the document was generated again, with the statement of approval
    assert report.document_id != draft_doc.id and report.document.job.state == JobState.DONE
    assert "approved by Rūta Biržietė, Head of Finance" in _docx_text(documents.content(report.document, "docx"))

    # publish: another municipality's finance officer may not
    as_user(FINANCE_ROK)
    assert client.post(f"/payments/reports/{report.id}/publish", data={"version": report.version}).status_code == 403
    as_user(FINANCE_BIR)
    assert client.post(f"/payments/reports/{report.id}/publish", data={"version": report.version}).status_code == 302
    ctx.expire_all()
    report = ctx.get(PaymentReport, report.id)
    assert report.state == ReportState.PUBLISHED and report.published_at is not None

    # now public: listed, readable and downloadable without logging in
    client.post("/logout")
    listing = client.get("/payments/reports").get_data(as_text=True)
    assert f'id="report-{report.id}"' in listing
    row = re.search(rf'<tr id="report-{report.id}">(.*?)</tr>', listing, re.S).group(1)
    assert "Biržai District Municipality" in _text(row) and "Rūta Biržietė, Head of Finance" in _text(row)
    assert f"/payments/reports/{report.id}/document" in row
    assert f'id="report-{report.id}"' not in client.get("/payments/reports?municipality=ROK").get_data(as_text=True)
    page = client.get(f"/payments/reports/{report.id}")
    assert page.status_code == 200
    assert "This report was approved by Rūta Biržietė, Head of Finance" in _text(page.get_data(as_text=True))
    doc = client.get(f"/payments/reports/{report.id}/document")
    assert doc.status_code == 200
    assert doc.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert f'filename="{report.document.file_name}"' in doc.headers["Content-Disposition"]
    assert report.document.file_name.endswith("-en.docx")
    assert "approved by Rūta Biržietė" in _docx_text(doc.data)


def _prepared(client, as_user, ctx, lang="en"):
    from srpp.payments.models import PaymentReport

    as_user(FINANCE_BIR)
    assert client.post("/payments/municipalities/BIR/reports", data={"period": "2023H1", "language": lang}
                       ).status_code == 302
    return ctx.scalar(select(PaymentReport).where(PaymentReport.period_start == H1_START,
                                                  PaymentReport.municipality_id == _bir_id()))


def _bir_id():
    from srpp.orgs.services import municipality_by_code

    return municipality_by_code("BIR").id


def test_an_outdated_approval_form_changes_nothing(client, as_user, ctx, biržai):
    from srpp.payments.models import PaymentReport, ReportState

    report = _prepared(client, as_user, ctx)
    resp = client.post(f"/payments/reports/{report.id}/approve", data={
        "approver_name": "Rūta Biržietė", "approver_role": "Head of Finance",
        "approved_on": dt.date.today().isoformat(), "version": report.version - 1}, follow_redirects=True)
    assert resp.status_code == 200
    assert "This record was changed by someone else" in _text(resp.get_data(as_text=True))
    ctx.expire_all()
    assert ctx.get(PaymentReport, report.id).state == ReportState.DRAFT


def test_the_document_can_be_generated_again_in_another_language(client, as_user, ctx, biržai):
    from srpp.core.models import JobState
    from srpp.payments.models import PaymentReport

    report = _prepared(client, as_user, ctx, lang="en")
    first = report.document_id
    assert client.post(f"/payments/reports/{report.id}/regenerate", data={"language": "lt"}).status_code == 302
    ctx.expire_all()
    report = ctx.get(PaymentReport, report.id)
    assert report.document_id != first
    assert (report.document.language, report.document.job.state) == ("lt", JobState.DONE)
    assert report.document.file_name.endswith("-lt.docx")
    # the council reads the report but may not generate its document
    as_user(COUNCIL)
    assert client.post(f"/payments/reports/{report.id}/regenerate", data={"language": "en"}).status_code == 403


def test_a_half_year_still_running_cannot_be_reported(client, as_user, ctx):
    from srpp.payments import calc

    as_user(FINANCE_BIR)
    start = calc.half_year(dt.date.today())[0]
    resp = client.post("/payments/municipalities/BIR/reports",
                       data={"period": f"{start.year}H{1 if start.month == 1 else 2}", "language": "lt"})
    assert resp.status_code == 200  # not one of the choices: the form again
    assert "Not a valid choice" in _text(resp.get_data(as_text=True))


@pytest.mark.parametrize(("email", "status"), [(COUNCIL, 200), (ADMIN, 200), (FINANCE_BIR, 200), (FINANCE_ROK, 403),
                                               (OFFICER, 403), (SEO, 403)])
def test_who_sees_a_municipalitys_reports(client, as_user, ctx, email, status):
    as_user(email)
    resp = client.get("/payments/municipalities/BIR/reports")
    assert resp.status_code == status
    if status == 200:
        page = resp.get_data(as_text=True)
        # the council reads; finance officers and admins prepare
        assert ("Prepare the report" in page) == (email != COUNCIL)
        post = client.post("/payments/municipalities/BIR/reports", data={})
        assert post.status_code == (403 if email == COUNCIL else 200)


# --- reference rates ---------------------------------------------------------------------------------------

def test_the_admin_adds_and_changes_a_rate(client, as_user, ctx):
    from srpp.payments.models import ReferenceRate

    as_user(ADMIN)
    page = client.get("/payments/rates").get_data(as_text=True)
    assert "in force on 1 January" in page and 'id="rate-2024-07-01"' in page
    assert "12.25%" in _text(re.search(r'<tr id="rate-2024-07-01">(.*?)</tr>', page, re.S).group(1))
    resp = client.post("/payments/rates", data={"valid_from": "2027-01-01", "rate": "2,40", "source": "Test source"})
    assert resp.status_code == 302
    row = ctx.scalar(select(ReferenceRate).where(ReferenceRate.valid_from == dt.date(2027, 1, 1)))
    assert (row.rate, row.source) == (Decimal("2.400"), "Test source")
    page = client.get("/payments/rates").get_data(as_text=True)
    assert "10.4%" in _text(re.search(r'<tr id="rate-2027-01-01">(.*?)</tr>', page, re.S).group(1))
    # the change link fills the form in
    form = client.get("/payments/rates?valid_from=2027-01-01").get_data(as_text=True)
    assert 'value="2.400"' in form and 'value="Test source"' in form
    resp = client.post("/payments/rates", data={"valid_from": "2027-01-01", "rate": "2.65"})
    assert resp.status_code == 302
    ctx.expire_all()
    assert ctx.scalar(select(ReferenceRate.rate).where(ReferenceRate.valid_from == dt.date(2027, 1, 1))) == \
        Decimal("2.650")
    # not 1 January / 1 July: refused, on the field
    resp = client.post("/payments/rates", data={"valid_from": "2027-02-01", "rate": "2.40"})
    assert resp.status_code == 200
    assert "A reference rate applies from 1 January or 1 July." in _text(resp.get_data(as_text=True))
    assert ctx.scalar(select(ReferenceRate).where(ReferenceRate.valid_from == dt.date(2027, 2, 1))) is None


@pytest.mark.parametrize(("email", "get_status"), [(COUNCIL, 200), (FINANCE_ROK, 200), (OFFICER, 403), (SEO, 403)])
def test_others_cannot_change_rates(client, as_user, ctx, email, get_status):
    from srpp.payments.models import ReferenceRate

    as_user(email)
    resp = client.get("/payments/rates")
    assert resp.status_code == get_status
    if get_status == 200:
        page = resp.get_data(as_text=True)
        assert 'id="rate-table"' in page and "Save the rate" not in page and 'id="read-only"' in page
    resp = client.post("/payments/rates", data={"valid_from": "2027-07-01", "rate": "9.99"})
    assert resp.status_code == 403
    assert ctx.scalar(select(ReferenceRate).where(ReferenceRate.valid_from == dt.date(2027, 7, 1))) is None
