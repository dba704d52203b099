"""The indicator dashboards, the public progress scoreboard, the annual impact report and the indicator demo
(srpp/kpis/dashboards.py, overview.py, impact.py, chart_images.py, demo.py).

They read what the demo loaded (srpp/kpis/demo.py): the last four completed half-years of values, F1
(average days to pay) red for Biržai and R-CONTINUITY red for Kupiškis in the latest one, so exactly risks
5.1 and 7 are in alert."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import docx
import pytest
from sqlalchemy import func, select

COUNCIL = "council@demo.srpp.lt"
ADMIN = "admin@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER = "officer.rok@demo.srpp.lt"
FINANCE = "finance.rok@demo.srpp.lt"


def _user(ctx, email):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


def _latest(today: dt.date | None = None):
    from srpp.kpis.demo import demo_periods

    start, end = demo_periods(today or dt.date.today())[-1]
    return start, end


def _key(start: dt.date) -> str:
    return f"{start.year}H{1 if start.month == 1 else 2}"


def _text(body: bytes) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body.decode()))


def _row(body: bytes, code: str) -> str:
    m = re.search(rf'<tr id="kpi-row-{re.escape(code)}".*?</tr>', body.decode(), re.S)
    assert m, f"no row for {code}"
    return m.group(0)


# --- the demo ----------------------------------------------------------------------------------------------------

def test_the_demo_holds_four_half_years_two_alerts_and_reviews(ctx):
    from srpp.kpis.demo import demo_periods
    from srpp.kpis.models import Indicator, IndicatorSource, IndicatorValue
    from srpp.reporting.models import DataSubmission, SubmissionState
    from srpp.risks import services as risks
    from srpp.risks.models import RiskAlert

    periods = demo_periods(dt.date.today())
    starts = [s for s, _e in periods]
    # reported: a region value in every demo half-year for every indicator asked of the municipalities
    for ind in ctx.scalars(select(Indicator).where(Indicator.source == IndicatorSource.REPORTED,
                                                   Indicator.reported_by.in_(["municipality", "both"]))):
        got = set(ctx.scalars(select(IndicatorValue.period_start).where(
            IndicatorValue.indicator_id == ind.id, IndicatorValue.scope_key == "region",
            IndicatorValue.value.is_not(None))))
        assert set(starts) <= got, ind.code
    # computed: the recompute ran for each of the four half-years (one row per indicator, scope and period)
    f1 = ctx.scalar(select(Indicator).where(Indicator.code == "F1"))
    assert ctx.scalar(select(func.count(IndicatorValue.id)).where(
        IndicatorValue.indicator_id == f1.id, IndicatorValue.scope_key == "region",
        IndicatorValue.period_start.in_(starts))) == 4
    # the protocol: submitted through the services, mostly on time
    subs = ctx.scalars(select(DataSubmission).where(DataSubmission.period_start.in_(starts))).all()
    assert subs and all(s.state == SubmissionState.SUBMITTED for s in subs)
    assert sum(1 for s in subs if s.on_time) > len(subs) * 0.8
    # exactly two risks in alert, recorded by the scan, each reviewed after its alert with an action
    alerts = risks.current_alerts()
    in_alert = {a[0].risk.code: a for a in alerts.values()}
    assert set(in_alert) == {"5.1", "7"}
    assert {(a.code, a.value.municipality.code) for a in in_alert["5.1"]} == {("F1", "BIR")}
    assert {(a.code, a.value.municipality.code) for a in in_alert["7"]} == {("R-CONTINUITY", "KUP")}
    assert all(a.value.period_start == starts[-1] for group in in_alert.values() for a in group)
    assert ctx.scalar(select(func.count(RiskAlert.id)).where(RiskAlert.closed_at.is_(None))) == 2
    for risk in risks.all_risks():
        assert risk.reviews, f"risk {risk.code} has no review"
    for code in ("5.1", "7"):
        risk = risks.get_risk(_user(ctx, COUNCIL), code)
        assert risk.reviews[0].reviewed_on >= dt.date.today() - dt.timedelta(days=30)
        assert any(a.completed_on is None and a.due_on > dt.date.today() for a in risk.actions)


# --- access --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email,status", [
    (COUNCIL, 200), (ADMIN, 200), (OFFICER, 200), (FINANCE, 200), (SEO, 403)])
def test_council_dashboard_for_the_right_roles(as_user, email, status):
    c = as_user(email)
    assert c.get("/indicators/dashboard").status_code == status
    assert c.get("/indicators/dashboard?municipality=BIR&group=finance").status_code == status


def test_dashboards_need_a_login(client):
    for url in ("/indicators/dashboard", "/indicators/municipalities/ROK"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.post("/indicators/dashboard/report", data={"year": "2026", "language": "en"}).status_code == 302


@pytest.mark.parametrize("email,code,status", [
    (COUNCIL, "BIR", 200), (ADMIN, "ROK", 200), (OFFICER, "ROK", 200), (FINANCE, "ROK", 200),
    (OFFICER, "BIR", 403), (FINANCE, "KUP", 403), (SEO, "ROK", 403), (COUNCIL, "NOPE", 404)])
def test_municipality_dashboard_for_its_staff_and_the_council(as_user, email, code, status):
    assert as_user(email).get(f"/indicators/municipalities/{code}").status_code == status


@pytest.mark.parametrize("email", [SEO, OFFICER, FINANCE])
def test_only_the_council_and_admins_generate_the_annual_report(as_user, email):
    c = as_user(email)
    assert c.post("/indicators/dashboard/report", data={"year": str(dt.date.today().year),
                                                        "language": "en"}).status_code == 403
    if email != SEO:
        assert "kpi-generate-report" not in c.get("/indicators/dashboard").data.decode()


# --- the council's dashboard -----------------------------------------------------------------------------------------

def test_dashboard_shows_every_indicator_with_its_traffic_light_in_words(as_user, ctx):
    from srpp.kpis.models import Indicator

    body = as_user(COUNCIL).get("/indicators/dashboard").data
    page = body.decode()
    codes = set(ctx.scalars(select(Indicator.code)))
    shown = set(re.findall(r'<tr id="kpi-row-([^"]+)"', page))
    assert shown == codes
    start, _end = _latest()
    text = _text(body)
    assert f"in {_key(start)[:4]} H{_key(start)[-1]}" in text  # "Panevėžys region … in 2026 H1"
    f1 = _row(body, "F1")
    assert 'href="/indicators/F1"' in f1
    assert f'href="/indicators/F1/{_key(start)}/region"' in f1  # the value leads to the records behind it
    assert re.search(r"On track|Needs attention|Off track", _text(f1.encode()))
    # the summary counts add up to the number of indicators
    counts = [int(n) for n in re.findall(r'<strong class="kpi-count">(\d+)</strong>', page)]
    assert sum(counts) == len(codes)


def test_filter_by_municipality_shows_its_red_indicator_linked_to_the_risk(as_user):
    start, _end = _latest()
    body = as_user(COUNCIL).get("/indicators/dashboard?municipality=BIR").data
    f1 = _row(body, "F1")
    assert 'data-status="red"' in f1
    assert "Off track" in _text(f1.encode())
    assert re.search(r'<a href="/risks/5.1" class="kpi-risk-link kpi-risk-red">Risk 5.1</a>', f1)
    assert "in alert" in _text(f1.encode())
    assert f'href="/indicators/F1/{_key(start)}/BIR"' in f1
    # the region's F1 is not red: the filter changed what is shown
    region = _row(as_user(COUNCIL).get("/indicators/dashboard").data, "F1")
    assert 'data-status="red"' not in region
    # the comparison defaults to the first red indicator and marks Biržai in words
    comparison = re.search(r'id="h-comparison".*?</section>', body.decode(), re.S).group(0)
    assert "Biržai" in comparison and "Off track" in _text(comparison.encode())


def test_group_filter_and_bad_parameters(as_user):
    c = as_user(COUNCIL)
    page = c.get("/indicators/dashboard?group=finance").data.decode()
    assert set(re.findall(r'<tr id="kpi-row-([^"]+)"', page)) == {"F1", "F1-WITHIN-TERM", "F2", "F3"}
    everything = set(re.findall(r'<tr id="kpi-row-([^"]+)"', c.get("/indicators/dashboard?group=nope").data.decode()))
    assert len(everything) > 40
    resp = c.get("/indicators/dashboard?municipality=XYZ&period=soon&indicator=NOPE")
    assert resp.status_code == 200
    text = _text(resp.data)
    assert "There is no municipality “XYZ”" in text and "There is no half-year “soon”" in text


def test_comparison_across_municipalities_for_a_chosen_indicator(as_user):
    body = as_user(COUNCIL).get("/indicators/dashboard?indicator=R-CONTINUITY").data.decode()
    section = re.search(r'id="h-comparison".*?</section>', body, re.S).group(0)
    assert "R-CONTINUITY" in section
    assert '<svg class="chart chart-kind-bar"' in section and '<svg class="chart chart-kind-line"' in section
    kupiskis = re.search(r"<tr><th scope=\"row\">Kupiškis[^<]*</th><td class=\"num\">([^<]+)</td>", section)
    assert kupiskis and "Off track" in kupiskis.group(1)


def test_the_earlier_half_year_can_be_chosen(as_user):
    from srpp.kpis.demo import demo_periods

    first = demo_periods(dt.date.today())[0][0]
    body = as_user(COUNCIL).get(f"/indicators/dashboard?period={_key(first)}&municipality=BIR").data
    assert f"in {first.year} H{1 if first.month == 1 else 2}" in _text(body)
    assert 'data-status="red"' not in _row(body, "F1")  # Biržai paid on time two years ago


# --- the municipality's dashboard ---------------------------------------------------------------------------------------

def test_municipality_dashboard_shows_its_values_next_to_the_region(as_user):
    body = as_user("finance.bir@demo.srpp.lt").get("/indicators/municipalities/BIR").data
    f1 = _row(body, "F1")
    assert 'data-status="red"' in f1
    cells = re.findall(r'<td class="num">\s*(.*?)\s*</td>', f1, re.S)
    assert len(cells) >= 3  # its value, the region's value, the target
    assert "<h1>Biržai District Municipality</h1>" in body.decode()
    assert 'id="h-trend"' in body.decode()


# --- the public scoreboard -------------------------------------------------------------------------------------------------

def test_scoreboard_is_public_with_targets_and_published_indicators(client, ctx):
    from srpp.kpis.models import Indicator
    from srpp.risks.models import ProgrammeTarget

    resp = client.get("/indicators/scoreboard")
    assert resp.status_code == 200
    page = resp.data.decode()
    for code in ctx.scalars(select(ProgrammeTarget.code)):
        assert f'id="target-{code}"' in page
    assert re.search(r"\d+ of \d+ targets reached", _text(resp.data))
    shown = set(re.findall(r'<tr id="published-([^"]+)"', page))
    public = set(ctx.scalars(select(Indicator.code).where(Indicator.public.is_(True))))
    private = set(ctx.scalars(select(Indicator.code).where(Indicator.public.is_(False))))
    assert shown and shown <= public
    assert {"F1", "R-CONTINUITY"} <= shown
    assert not shown & private
    # aggregates for the region only: Kupiškis's red continuity of care is not singled out
    assert 'data-status="red"' not in _row_published(page, "R-CONTINUITY")
    assert "Kupiškis" not in _text(page.encode())
    assert "/indicators/F1" not in page  # no links into the internal pages


def _row_published(page: str, code: str) -> str:
    m = re.search(rf'<tr id="published-{re.escape(code)}".*?</tr>', page, re.S)
    assert m
    return m.group(0)


def test_scoreboard_shows_no_personal_data(client, ctx):
    from srpp.auth.models import User
    from srpp.orgs.models import Supplier
    from srpp.payments.models import Invoice

    page = client.get("/indicators/scoreboard").data.decode()
    text = _text(page.encode())
    main = page[page.index("<main"):page.index("</main>")]
    assert "@" not in main  # no e-mail address at all
    for user in ctx.scalars(select(User)):
        assert user.email not in page
        if user.display_name:
            assert user.display_name not in text, user.display_name
    for number in ctx.scalars(select(Invoice.number)):
        assert number not in main
    for supplier in ctx.scalars(select(Supplier.legal_name)):
        assert supplier not in text


# --- the annual impact report ---------------------------------------------------------------------------------------------

def test_impact_year_subject(ctx):
    from srpp.documents import subjects
    from srpp.documents.kinds import KINDS
    from srpp.documents.services import may_request

    year = dt.date.today().year
    subject = subjects.load("impact_year", year)
    assert subject.id == year and subject.municipality is None and subject.reference.endswith(str(year))
    assert subjects.title(subject).endswith(str(year))
    assert subjects.load("impact_year", year + 1) is None and subjects.load("impact_year", 1999) is None
    kind = KINDS["impact_report"]
    assert may_request(_user(ctx, COUNCIL), kind, subject) and may_request(_user(ctx, ADMIN), kind, subject)
    assert not may_request(_user(ctx, OFFICER), kind, subject) and not may_request(_user(ctx, SEO), kind, subject)


def test_impact_report_is_generated_with_tables_charts_risks_and_targets(ctx):
    from srpp.core.models import JobState
    from srpp.documents import services, subjects
    from srpp.documents.kinds import KINDS

    start, _end = _latest()
    council = _user(ctx, COUNCIL)
    doc = services.request_document(council, KINDS["impact_report"], subjects.load("impact_year", start.year), "en")
    assert doc.state == JobState.DONE, doc.job.error  # eager: the worker ran in-process
    assert doc.municipality_id is None and doc.file_name.startswith("impact-report-")
    d = docx.Document(io.BytesIO(services.content(doc, "docx")))
    # the indicator tables by group: a value per half-year of the year, the target and the status
    headers = [[c.text for c in t.rows[0].cells] for t in d.tables]
    label = f"{start.year} H{1 if start.month == 1 else 2}"
    indicator_tables = [t for t, h in zip(d.tables, headers, strict=True)
                        if h[:2] == ["Code", "Indicator"] and label in h and "Status" in h]
    assert len(indicator_tables) >= 7
    rows = {r.cells[0].text: dict(zip([c.text for c in t.rows[0].cells], [c.text for c in r.cells], strict=True))
            for t in indicator_tables for r in t.rows[1:]}
    assert re.fullmatch(r"[\d.,]+ days", rows["F1"][label])
    assert rows["F1"]["Status"] in ("On track", "Needs attention", "Off track")
    assert rows["R-CONTINUITY"][label].endswith("%")
    # charts as images, each with a text alternative
    assert len(d.inline_shapes) >= 3
    for shape in d.inline_shapes:
        descr = shape._inline.docPr.get("descr")
        assert descr and len(descr) > 20
    body = "\n".join(p.text for p in d.paragraphs)
    assert "Figure 1." in body
    # the risk summary (by severity, with the alerts of the year) and the targets reached
    risk_table = next(t for t, h in zip(d.tables, headers, strict=True) if h and h[0] == "Code" and "Open corrective actions" in h)
    risk_rows = {r.cells[0].text: r.cells[3].text for r in risk_table.rows[1:]}
    assert "F1 (Biržai)" in risk_rows["5.1"] and "R-CONTINUITY (Kupiškis)" in risk_rows["7"]
    assert re.search(r"\d+ of \d+ programme targets reached", body)
    # no personal data
    assert "@" not in body and all("@" not in c.text for t in d.tables for r in t.rows for c in r.cells)


def test_the_council_generates_the_report_from_the_dashboard(as_user, ctx):
    from srpp.documents.models import GeneratedDocument

    start, _end = _latest()
    c = as_user(COUNCIL)
    page = c.get("/indicators/dashboard").data.decode()
    assert 'id="kpi-generate-report"' in page
    assert re.search(rf'<option selected value="{start.year}">', page)  # the latest year with values
    resp = c.post("/indicators/dashboard/report", data={"year": str(start.year), "language": "lt"})
    assert resp.status_code == 302
    doc_id = int(re.search(r"/documents/(\d+)$", resp.headers["Location"]).group(1))
    doc = ctx.get(GeneratedDocument, doc_id)
    assert doc.kind == "impact_report" and doc.subject_id == start.year and doc.language == "lt"
    show = c.get(resp.headers["Location"]).data.decode()
    assert f"/documents/{doc_id}/download" in show
    # it is listed on the dashboard afterwards
    assert f"/documents/{doc_id}" in c.get("/indicators/dashboard").data.decode()
    # a year that is not offered is refused without creating anything
    before = ctx.scalar(select(func.count(GeneratedDocument.id)))
    assert c.post("/indicators/dashboard/report", data={"year": "1990", "language": "en"}).status_code == 302
    assert ctx.scalar(select(func.count(GeneratedDocument.id))) == before


def test_the_preview_shows_the_charts_inline(as_user):
    start, _end = _latest()
    page = as_user(COUNCIL).get(f"/documents/new/impact_report/impact_year/{start.year}").data.decode()
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)">', page)
    assert len(images) >= 3 and all(len(alt) > 20 for alt in images)


# --- the pieces ---------------------------------------------------------------------------------------------------------------

def test_image_block_in_the_docx_and_in_html(app):
    from flask import render_template_string

    from srpp.documents.kinds import Block
    from srpp.kpis import chart_images

    png = chart_images.bar_png(["A", "B"], [1, None], statuses=["green", "none"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    block = Block("image", image=png, caption="Figure 9. Test <caption>", alt='Two bars: A 1 & B "none"')
    with app.test_request_context():
        out = render_template_string('{% from "documents/_macros.html" import block %}{{ block(b) }}', b=block)
    assert 'alt="Two bars: A 1 &amp; B &#34;none&#34;"' in out
    assert "<figcaption>Figure 9. Test &lt;caption&gt;</figcaption>" in out
    assert block.data_uri.startswith("data:image/png;base64,iVBOR")


def test_chart_images_are_pngs():
    from decimal import Decimal

    from srpp.kpis import chart_images

    line = chart_images.line_png(["2025 H1", "2025 H2"], [("Region", [Decimal("41.5"), None]), ("B", [1, 2])],
                                 target=30, target_label="target", integer=True)
    status = chart_images.status_png([("Finance", {"green": 2, "red": 1})], {"green": "on", "red": "off"})
    for png in (line, status):
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_sparkline_geometry_and_words(ctx):
    from srpp.kpis import overview
    from srpp.kpis.dashboards import sparkline
    from srpp.kpis.models import Indicator

    start, _end = _latest()
    periods = overview.periods_ending(overview.HalfYear.of(start))
    rows = overview.board("region", periods, with_risks=False)
    row = next(r for r in rows if r.code == "F1")
    s = sparkline(row)
    assert len(s.dots) == sum(1 for v in row.values if v is not None)
    assert all(0 <= float(x) <= s.width and 0 <= float(y) <= s.height for x, y in s.dots)
    assert s.label.count(";") == len(periods) - 1
    empty = overview.Row(ctx.scalar(select(Indicator).where(Indicator.code == "G2")), periods, [None] * len(periods))
    assert sparkline(empty).paths == [] and empty.status == "none" and empty.trend_word == ""
