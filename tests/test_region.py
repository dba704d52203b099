"""The consolidated regional plan (totals, filters, charts, review status) and the reserved share
per municipality (LT-RES-02)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from srpp.rules.models import Procedure, ReservationBasis

MARK = "Zetatest"  # a word in every test item's title: filters them apart from the demo plans


def _user(email: str):
    from srpp.auth.models import User
    from srpp.extensions import db

    return db.session.scalar(select(User).where(User.email == email))


def _item(cat_key: str, title: str, value: str, month: dt.date, procedure: Procedure,
          reservation: ReservationBasis = ReservationBasis.NONE, duration: int = 12):
    from srpp.extensions import db
    from srpp.orgs.models import ServiceCategory
    from srpp.plans import services

    cat = db.session.scalar(select(ServiceCategory).where(ServiceCategory.key == cat_key))
    return services.ItemInput(
        title=title, category_id=cat.id, main_cpv=cat.main_cpv,
        additional_cpv=[c.code for c in cat.cpv_codes if c.code != cat.main_cpv],
        estimated_value=D(value), launch_month=month, duration_months=duration, procedure=procedure,
        reservation=reservation)


ITEMS = [  # (category, title, value, launch month, procedure, reservation)
    ("DEM_DAY", f"{MARK} Alpha dementia day care", "10000.00", dt.date(2028, 1, 1), Procedure.SIMPLIFIED,
     ReservationBasis.NONE),
    ("SOC_WORKSHOP", f"{MARK} Beta social workshop", "20000.50", dt.date(2028, 2, 1), Procedure.SIMPLIFIED,
     ReservationBasis.EU_ART20),
    ("DRT", f"{MARK} Gamma on-demand transport", "30000.00", dt.date(2028, 2, 1), Procedure.SIMPLIFIED,
     ReservationBasis.NONE),
    ("HOME_CARE", f"{MARK} Delta home care", "250000.00", dt.date(2028, 5, 1), Procedure.LIGHT_REGIME,
     ReservationBasis.NONE),
]


@pytest.fixture()
def kup_2028(ctx):
    """A published KUP plan for 2028 (no overlap with the demo plan), with four items."""
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services

    officer = _user("officer.kup@demo.srpp.lt")
    version = services.create_plan(officer, municipality_by_code("KUP"), dt.date(2028, 1, 1))
    for spec in ITEMS:
        services.add_item(officer, version, _item(*spec))
    services.publish(officer, version, "test plan")
    return version


def _replace_current_items(code: str, specs: list[tuple]):
    """Publish a new version of the municipality's current demo plan with only ``specs``."""
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services

    officer = _user(f"officer.{code.lower()}@demo.srpp.lt")
    current = services.current_published(municipality_by_code(code))
    draft = services.start_new_version(officer, current.plan)
    for item in list(draft.items):
        services.delete_item(officer, item)
    for spec in specs:
        services.add_item(officer, draft, _item(*spec))
    return services.publish(officer, draft, "test")


# --- totals ----------------------------------------------------------------------------------

def test_totals_per_area_month_and_municipality(kup_2028):
    from srpp.orgs.models import PriorityArea
    from srpp.plans import services as plans
    from srpp.region import services

    f = services.PlanFilter(q=MARK)
    by_area = {t.area: (t.value, t.count) for t in services.totals_by_area(f)}
    assert by_area == {
        PriorityArea.LTC: (D("260000.00"), 2),
        PriorityArea.DISABILITY: (D("20000.50"), 1),
        PriorityArea.MOBILITY: (D("30000.00"), 1),
    }
    by_month = [(t.month, t.value, t.count) for t in services.totals_by_month(f)]
    assert by_month == [
        (dt.date(2028, 1, 1), D("10000.00"), 1),
        (dt.date(2028, 2, 1), D("50000.50"), 2),
        (dt.date(2028, 5, 1), D("250000.00"), 1),
    ]
    by_muni = {r.municipality.code: (r.value, r.count) for r in services.totals_by_municipality(f)}
    assert by_muni["KUP"] == (D("310000.50"), 4)
    assert set(by_muni) == {"PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"}  # every municipality is listed
    assert by_muni["ROK"] == (D("0.00"), 0)

    # the SQL aggregates agree with the in-Python totals of srpp.plans.services
    from srpp.extensions import db

    items = list(db.session.scalars(services.items_stmt(f)))
    py = plans.totals(items)
    assert py["total"] == D("310000.50")
    assert sorted(py["area"].values()) == sorted(v for v, _ in by_area.values())
    assert py["municipality"] == {"KUP": D("310000.50")}

    admin = _user("admin@demo.srpp.lt")
    data = services.overview(admin, f, today=dt.date(2027, 12, 10))
    assert (data.total_value, data.item_count) == (D("310000.50"), 4)
    assert [t.count for t in data.by_month] == [1, 2, 1]
    assert "2028-Q1" in services.launch_quarters() and "2028-Q2" in services.launch_quarters()


def test_regional_totals_cover_every_current_item(ctx):
    """Without filters the totals add up to the value of every current (published, not cancelled) item."""
    from srpp.extensions import db
    from srpp.plans import services as plans
    from srpp.region import services

    items = list(db.session.scalars(plans.current_items_stmt()))
    expected = sum((i.estimated_value for i in items), D(0))
    f = services.PlanFilter()
    assert sum(t.value for t in services.totals_by_area(f)) == expected
    assert sum(t.value for t in services.totals_by_month(f)) == expected
    assert sum(r.value for r in services.totals_by_municipality(f)) == expected
    assert sum(r.count for r in services.totals_by_municipality(f)) == len(items)
    by_code = plans.totals(items)["municipality"]
    assert {r.municipality.code: r.value for r in services.totals_by_municipality(f) if r.count} == by_code


@pytest.mark.parametrize(("filters", "titles"), [
    ({}, ["Alpha", "Gamma", "Beta", "Delta"]),
    ({"reserved": True}, ["Beta"]),
    ({"procedure": Procedure.LIGHT_REGIME}, ["Delta"]),
    ({"category": "DRT"}, ["Gamma"]),
    ({"area": "LTC"}, ["Alpha", "Delta"]),
    ({"quarter": "2028-Q1"}, ["Alpha", "Gamma", "Beta"]),
    ({"quarter": "2028-Q2"}, ["Delta"]),
    ({"municipality": "KUP"}, ["Alpha", "Gamma", "Beta", "Delta"]),
    ({"municipality": "ROK"}, []),
    ({"sort": "-value"}, ["Delta", "Gamma", "Beta", "Alpha"]),
    ({"sort": "value"}, ["Alpha", "Beta", "Gamma", "Delta"]),
    ({"sort": "-month"}, ["Delta", "Gamma", "Beta", "Alpha"]),
])
def test_filters_and_sorting(kup_2028, filters, titles):
    from srpp.extensions import db
    from srpp.orgs.models import PriorityArea
    from srpp.region import services

    if "area" in filters:
        filters["area"] = PriorityArea(filters["area"])
    f = services.PlanFilter(q=MARK, **filters)
    got = [i.title.split()[1] for i in db.session.scalars(services.items_stmt(f))]
    assert got == titles


def test_words_filter_all_words_and_wildcards(kup_2028):
    from srpp.extensions import db
    from srpp.region import services

    def titles(q):
        return [i.title for i in db.session.scalars(services.items_stmt(services.PlanFilter(q=q)))]

    assert titles(f"{MARK} workshop") == [f"{MARK} Beta social workshop"]
    assert titles(f"{MARK.lower()} DELTA") == [f"{MARK} Delta home care"]  # case-insensitive
    assert titles(f"{MARK} %") == []  # % is a character, not a wildcard


def test_quarter_parsing():
    from srpp.region.services import parse_quarter

    assert parse_quarter("2027-Q1") == (dt.date(2027, 1, 1), dt.date(2027, 3, 1))
    assert parse_quarter("2027-q4") == (dt.date(2027, 10, 1), dt.date(2027, 12, 1))
    assert parse_quarter("2027-Q5") is None and parse_quarter("") is None and parse_quarter(None) is None


def test_timeline_next_12_months_per_municipality(kup_2028):
    from srpp.region import services

    tl = services.timeline(services.PlanFilter(q=MARK), today=dt.date(2027, 12, 15))
    assert tl.months[0] == dt.date(2027, 12, 1) and tl.months[-1] == dt.date(2028, 11, 1) and len(tl.months) == 12
    ((muni, values),) = tl.series
    assert muni.code == "KUP"
    assert values[1:3] == [D("10000.00"), D("50000.50")] and values[5] == D("250000.00")
    assert sum(values) == D("310000.50") == tl.total
    later = services.timeline(services.PlanFilter(q=MARK), today=dt.date(2028, 3, 1))
    assert later.total == D("250000.00")  # launches before the window are left out


# --- pages -----------------------------------------------------------------------------------

def _row(html: str, row_id: str) -> str:
    m = re.search(rf'<tr id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"row {row_id} not found"
    return m.group(1)


def test_plan_page_shows_totals_items_and_charts(kup_2028, as_user):
    client = as_user("council@demo.srpp.lt")
    html = client.get(f"/region/plan?q={MARK}").get_data(as_text=True)
    assert "4 items" in html and "€310,000.50" in html
    for _, title, *_ in ITEMS:
        assert title in html
    assert "KUP" in _row(html, "muni-KUP") and "€310,000.50" in _row(html, "muni-KUP")
    # the area chart: one bar per priority area with items, and the timeline chart
    assert html.count('class="chart-bar"') == 3
    assert 'aria-labelledby="timeline-title timeline-desc"' in html
    assert 'aria-labelledby="areas-title areas-desc"' in html
    assert "style=" not in html
    assert "<script>" not in html

    reserved = client.get(f"/region/plan?q={MARK}&reserved=1").get_data(as_text=True)
    assert "Beta social workshop" in reserved and "Gamma on-demand transport" not in reserved
    assert "1 item" in reserved and "€20,000.50" in reserved
    quarter = client.get(f"/region/plan?q={MARK}&quarter=2028-Q2&municipality=KUP").get_data(as_text=True)
    assert "Delta home care" in quarter and "Alpha dementia" not in quarter


def test_plan_page_timeline_has_demo_launches_and_sorting_links(as_user):
    client = as_user("officer.bir@demo.srpp.lt")
    resp = client.get("/region/plan?sort=-value")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'class="chart-segment' in html  # the demo plans launch within the next 12 months
    assert 'aria-sort="descending"' in html
    assert 'name="sort"' in html


def test_plan_page_bad_parameters_are_ignored(as_user):
    client = as_user("council@demo.srpp.lt")
    resp = client.get("/region/plan?area=NOPE&quarter=junk&page=abc&sort=drop&procedure=x&municipality=ZZZ")
    assert resp.status_code == 200
    assert "Not a valid choice" in resp.get_data(as_text=True)


def test_plan_page_paginates(as_user, ctx):
    from srpp.extensions import db
    from srpp.plans import services as plans

    total = db.count(plans.current_items_stmt())
    assert total > 25, "the demo region should need more than one page"
    client = as_user("council@demo.srpp.lt")
    first = client.get("/region/plan").get_data(as_text=True)
    second = client.get("/region/plan?page=2").get_data(as_text=True)
    assert "Page 1 of" in first and "Page 2 of" in second
    assert 'rel="next"' in first


def test_stale_plan_is_flagged_for_pan_d(app, as_user):
    client = as_user("council@demo.srpp.lt")
    html = client.get("/region/plan").get_data(as_text=True)
    row = _row(html, "muni-PAN-D")
    assert "Review overdue" in row and "Sep 20, 2026" in row
    assert re.search(r'<tr id="muni-PAN-D" class="stale"', html)
    # only the municipalities whose plan is past its review date are flagged
    from srpp.plans.services import review_overview

    with app.app_context():
        stale = [m.code for m, _, status in review_overview() if status.stale]
    assert "PAN-D" in stale
    for code in ("PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"):
        assert ("Review overdue" in _row(html, f"muni-{code}")) == (code in stale)


@pytest.mark.parametrize("url", ["/region/plan", "/region/reserved-share"])
def test_access(client, as_user, url):
    assert client.get(url).status_code == 302 and "/login" in client.get(url).headers["Location"]
    as_user("seo@demo.srpp.lt")
    assert client.get(url).status_code == 403
    for email in ("council@demo.srpp.lt", "admin@demo.srpp.lt", "officer.pas@demo.srpp.lt",
                  "finance.rok@demo.srpp.lt"):
        as_user(email)
        assert client.get(url).status_code == 200, email


def test_nav_shows_regional_pages_to_readers_only(as_user):
    html = as_user("officer.rok@demo.srpp.lt").get("/").get_data(as_text=True)
    assert "/region/plan" in html and "/region/reserved-share" in html
    html = as_user("seo@demo.srpp.lt").get("/").get_data(as_text=True)
    assert "/region/plan" not in html


# --- reserved share ---------------------------------------------------------------------------

def _share_row(code: str, today: dt.date | None = None):
    from srpp.region import services

    return next(r for r in services.reserved_share_by_municipality(today) if r.municipality.code == code)


M = dt.date(2027, 3, 1)


def test_reserved_share_below_minimum_warns(ctx, as_user):
    _replace_current_items("ROK", [
        ("DRT", f"{MARK} transport", "100000", M, Procedure.SIMPLIFIED, ReservationBasis.NONE),
        ("SOC_WORKSHOP", f"{MARK} workshop", "1500", M, Procedure.SIMPLIFIED, ReservationBasis.EU_ART20),
        ("HOME_CARE", f"{MARK} home care", "200000", M, Procedure.LIGHT_REGIME, ReservationBasis.NONE),
    ])
    row = _share_row("ROK")
    assert row.share.reserved_value == D("1500.00")
    assert row.share.simplified_value == D("101500.00")  # the light-regime item is not simplified
    assert row.share.ratio == D("0.0148") and row.share.minimum == D("0.02")
    assert row.status == "below" and row.warning

    html = as_user("council@demo.srpp.lt").get("/region/reserved-share").get_data(as_text=True)
    rok_row = _row(html, "share-ROK")
    assert "Below the minimum" in rok_row and "1.5%" in rok_row and "2%" in rok_row
    assert "€1,500.00" in rok_row and "€101,500.00" in rok_row
    assert 'role="alert"' in html and "Rokiškis" in html.split('role="alert"')[1].split("</div>")[0]
    assert "Below the minimum" not in _row(html, "share-PAN-C")
    # the chart: one bar per municipality, the KUP bar in the warning colour, the minimum marked
    assert html.count('class="chart-bar') == 6
    assert html.count("chart-bar chart-warn") == len([r for r in _all_rows() if r.warning])
    assert "Minimum 2%" in html and 'class="chart-marker"' in html
    assert "style=" not in html


def _all_rows():
    from srpp.region import services

    return services.reserved_share_by_municipality()


def test_reserved_share_minimum_setting_is_honoured(ctx, as_user):
    from srpp.core import settings

    _replace_current_items("ROK", [
        ("DRT", f"{MARK} transport", "97000", M, Procedure.SIMPLIFIED, ReservationBasis.NONE),
        ("SOC_WORKSHOP", f"{MARK} workshop", "3000", M, Procedure.SIMPLIFIED, ReservationBasis.EU_ART20),
    ])
    assert _share_row("ROK").share.ratio == D("0.03")
    assert _share_row("ROK").status == "ok"
    client = as_user("council@demo.srpp.lt")
    assert "Meets the minimum" in _row(client.get("/region/reserved-share").get_data(as_text=True), "share-ROK")

    settings.set_value(_user("admin@demo.srpp.lt"), "plans.reserved_min_share", "0.05")
    row = _share_row("ROK")
    assert row.share.minimum == D("0.05") and row.status == "below"
    html = client.get("/region/reserved-share").get_data(as_text=True)
    rok_row = _row(html, "share-ROK")
    assert "Below the minimum" in rok_row and "5%" in rok_row and "3%" in rok_row
    assert "Minimum 5%" in html


def test_no_simplified_procurement_planned(ctx, as_user):
    _replace_current_items("ROK", [
        ("HOME_CARE", f"{MARK} home care", "200000", M, Procedure.LIGHT_REGIME, ReservationBasis.LT_23_1_5),
    ])
    row = _share_row("ROK")
    assert row.share.ratio is None and row.status == "no_simplified" and not row.warning
    html = as_user("council@demo.srpp.lt").get("/region/reserved-share").get_data(as_text=True)
    rok_row = _row(html, "share-ROK")
    assert "No simplified procurement planned" in rok_row and "Below the minimum" not in rok_row
    assert "no simplified procurement planned" in html  # the chart's value text


def test_reserved_share_in_lithuanian(ctx, as_user):
    _replace_current_items("ROK", [
        ("DRT", f"{MARK} transport", "97000", M, Procedure.SIMPLIFIED, ReservationBasis.NONE),
        ("SOC_WORKSHOP", f"{MARK} workshop", "3000", M, Procedure.SIMPLIFIED, ReservationBasis.EU_ART20),
    ])
    html = as_user("council@demo.srpp.lt", lang="lt").get("/region/reserved-share").get_data(as_text=True)
    assert "3\xa0%" in _row(html, "share-ROK")


def test_reserved_share_uses_the_plan_current_on_the_day(kup_2028):
    row = _share_row("KUP", today=dt.date(2028, 3, 1))
    assert row.version.id == kup_2028.id
    assert row.share.reserved_value == D("20000.50")
    assert row.share.simplified_value == D("60000.50")
    assert row.share.ratio == D("0.3333")


def test_percent_is_locale_aware(ctx):
    from flask_babel import force_locale

    from srpp.region.services import percent

    with force_locale("en"):
        assert percent(D("0.0148")) == "1.5%" and percent(D("0.02")) == "2%" and percent(None) == "—"
    with force_locale("lt"):
        assert percent(D("0.0148")) == "1,5\xa0%"


# --- municipality summary -----------------------------------------------------------------------

def test_municipality_summary(ctx):
    from srpp.extensions import db
    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services as plans
    from srpp.plans.models import ItemState, PlanItem
    from srpp.region import services

    rok = municipality_by_code("ROK")
    s = services.municipality_summary(rok)
    version = plans.current_published(rok)
    items = [i for i in db.session.scalars(select(PlanItem).where(PlanItem.plan_version_id == version.id))
             if i.state != ItemState.CANCELLED]
    assert s.version.id == version.id
    assert s.item_count == len(items) > 0
    assert s.total_value == sum(i.estimated_value for i in items)
    assert s.share.reserved_value == sum(i.estimated_value for i in items if i.is_reserved)
    assert s.review.state in ("ok", "due_soon") and not s.stale
    assert s.share_row.status in ("ok", "below", "no_simplified")

    pan_d = services.municipality_summary(municipality_by_code("PAN-D"))
    assert pan_d.stale and pan_d.review.due == dt.date(2026, 9, 20)


def test_municipality_summary_without_a_plan(ctx):
    from srpp.orgs.models import Municipality, MunicipalityType
    from srpp.orgs.services import municipality_by_code
    from srpp.region import services

    region_id = municipality_by_code("ROK").region_id
    m = Municipality(region_id=region_id, code="TST", name_lt="Test", name_en="Test", short_name_lt="T",
                     short_name_en="T", type=MunicipalityType.DISTRICT)
    ctx.add(m)
    ctx.flush()
    s = services.municipality_summary(m)
    assert s.version is None and s.item_count == 0 and s.total_value == 0 and s.share is None
    assert s.review.state == "none" and s.share_row.status == "no_plan"
    assert _share_row("TST").status == "no_plan"


def test_overview_needs_the_permission(ctx):
    from srpp.core.permissions import PermissionDenied
    from srpp.region import services

    with pytest.raises(PermissionDenied):
        services.overview(_user("seo@demo.srpp.lt"), services.PlanFilter())


def test_plan_page_query_count_does_not_grow_with_items(app, ctx, as_user):
    """Totals are SQL aggregates: more items do not mean more queries."""
    from sqlalchemy import event

    from srpp.orgs.services import municipality_by_code
    from srpp.plans import services as plans

    client = as_user("council@demo.srpp.lt")
    engine = app.extensions["srpp_engine"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries(url: str) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = queries("/region/plan")
    officer = _user("officer.kup@demo.srpp.lt")
    version = plans.create_plan(officer, municipality_by_code("KUP"), dt.date(2028, 1, 1))
    for n in range(30):
        month = dt.date(2028, 1 + n % 12, 1)
        plans.add_item(officer, version, _item("DRT", f"{MARK} extra {n}", str(1000 + n), month, Procedure.SIMPLIFIED))
    plans.publish(officer, version)
    after = queries("/region/plan")
    assert after == before, f"{before} queries before, {after} after adding 30 items"
