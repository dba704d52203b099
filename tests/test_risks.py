"""The risk register (domain §4) and the regional programme targets (domain §5): the register file, levels,
the heat map and the severity order, alerts from red monitoring indicators with one notification per risk,
indicator and period, reviews and corrective actions with their permissions, the targets' evidence computed
from records made here, manual targets, and who may see the pages.

Indicator rows and values are made inside each test's rolled-back transaction, in 2031 H1, so that they are
the latest period whatever the demo holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.core.models import Notification
from srpp.core.permissions import PermissionDenied
from srpp.kpis.models import Direction, Indicator, IndicatorGroup, IndicatorSource, IndicatorValue
from srpp.orgs.services import municipality_by_code
from srpp.risks import services
from srpp.risks.models import CorrectiveAction, ProgrammeTarget, Rating, Risk, RiskAlert, RiskReview, level_of

COUNCIL = "council@demo.srpp.lt"
ADMIN = "admin@demo.srpp.lt"
SEO = "seo@demo.srpp.lt"
OFFICER = "officer.rok@demo.srpp.lt"
FINANCE = "finance.rok@demo.srpp.lt"

CODES = ["1.1", "1.2", "1.3", "2.1", "2.2", "3", "4", "5.1", "5.2", "7", "8", "9", "10.1", "10.2", "11.1", "11.2",
         "12.1", "12.2"]
P_START, P_END = dt.date(2031, 1, 1), dt.date(2031, 6, 30)


def _user(ctx, email) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _risk(ctx, code) -> Risk:
    return ctx.scalar(select(Risk).where(Risk.code == code))


def _indicator(ctx, code, *, direction="lower", amber="10", red="20", unit="percent") -> Indicator:
    """The registry's row (its thresholds set here) or a new one when the registry does not hold it yet."""
    ind = ctx.scalar(select(Indicator).where(Indicator.code == code))
    if ind is None:
        ind = Indicator(code=code, group=IndicatorGroup.RISK, name_lt=f"Rodiklis {code}", name_en=f"Indicator {code}",
                        definition_lt="—", definition_en="—", unit=unit, direction=Direction(direction),
                        source=IndicatorSource.REPORTED, reported_by="municipality")
        ctx.add(ind)
    ind.direction, ind.unit = Direction(direction), unit
    ind.amber, ind.red = Decimal(amber), Decimal(red)
    ctx.flush()
    return ind


def _value(ctx, ind, value, municipality=None, start=P_START, end=P_END) -> IndicatorValue:
    scope = "region" if municipality is None else f"m:{municipality.id}"
    row = ctx.scalar(select(IndicatorValue).where(IndicatorValue.indicator_id == ind.id,
                                                  IndicatorValue.scope_key == scope,
                                                  IndicatorValue.period_start == start))
    if row is None:
        row = IndicatorValue(indicator_id=ind.id, scope_key=scope, municipality_id=municipality.id if municipality
                             else None, period_start=start, period_end=end, source="reported", details={})
        ctx.add(row)
    row.value = Decimal(value)
    ctx.flush()
    return row


def _alert_notes(ctx, user) -> list[Notification]:
    return list(ctx.scalars(select(Notification).where(Notification.user_id == user.id,
                                                       Notification.dedupe_key.like("risk-alert:%"))))


# --- the register ---------------------------------------------------------------------------------------------

def test_register_holds_the_18_risks_of_the_source(ctx):
    risks = services.all_risks()
    assert [r.code for r in risks] == CODES  # the annex has no risk 6
    assert len(risks) == 18
    for r in risks:
        for name in ("area", "title", "description", "mitigation", "owner_text"):
            lt, en = getattr(r, f"{name}_lt"), getattr(r, f"{name}_en")
            assert lt.strip() and en.strip(), f"{r.code} {name}"
        assert r.title_lt != r.title_en and r.description_lt != r.description_en, r.code
        lt_items, en_items = r.mitigation_lt.splitlines(), r.mitigation_en.splitlines()
        assert len(lt_items) == len(en_items) >= 2, r.code
        assert r.indicator_codes, r.code
        if not r.reviews:  # the demo may have reviewed it
            assert r.likelihood == r.initial_likelihood and r.impact == r.initial_impact
    by_code = {r.code: r for r in risks}
    assert by_code["1.1"].indicator_codes == ["G2", "R-RESERVED-LOTS", "P1"]
    assert by_code["3"].indicator_codes == ["G1", "R-OPTOUTS-ON-TIME"]
    assert by_code["12.1"].indicator_codes == ["R-ASSETS-ALLOCATED", "R-ASSET-UTILISATION", "R-ASSET-COST"]
    assert "Regional SE contact point" == by_code["1.1"].owner_text_en
    # every risk-monitoring code of the registry is watched by some risk
    watched = {c for r in risks for c in r.indicator_codes}
    assert {"R-BID-ERROR-RATE", "R-STOPPAGES", "R-COMPLETE-SUBMISSIONS", "R-DPIA", "R-TRUST", "R-UPTAKE",
            "R-SCHEDULE-DELAY", "R-LEADER-PILOTS"} <= watched


def test_loading_again_changes_nothing_and_keeps_the_reviewed_rating(ctx):
    council = _user(ctx, COUNCIL)
    risk = _risk(ctx, "2.2")
    services.add_review(council, risk, services.ReviewInput(dt.date.today(), "high", "high", "Measures"))
    again = services.load_register()
    assert (again["added"], again["updated"], again["total"]) == (0, 0, 18)
    assert services.load_targets()["added"] == 0
    ctx.expire_all()
    risk = _risk(ctx, "2.2")
    assert (risk.likelihood, risk.impact, risk.initial_likelihood) == (Rating.HIGH, Rating.HIGH, Rating.MEDIUM)


@pytest.mark.parametrize("likelihood, impact, level", [
    ("low", "low", "low"), ("low", "medium", "low"), ("medium", "low", "low"), ("low", "high", "medium"),
    ("medium", "medium", "medium"), ("high", "low", "medium"), ("medium", "high", "high"), ("high", "high", "high"),
])
def test_level_is_likelihood_times_impact(likelihood, impact, level):
    assert level_of(Rating(likelihood), Rating(impact)) == Rating(level)


def test_heat_map_places_every_risk_once_and_the_list_goes_by_severity(ctx):
    council = _user(ctx, COUNCIL)
    for risk in services.all_risks():  # the register's rating, whatever the demo reviews did
        risk.likelihood, risk.impact = risk.initial_likelihood, risk.initial_impact
    ctx.flush()
    services.add_review(council, _risk(ctx, "12.2"), services.ReviewInput(dt.date.today(), "high", "high", "x"))
    services.add_review(council, _risk(ctx, "1.1"), services.ReviewInput(dt.date.today(), "low", "low"))
    risks = services.all_risks()
    grid = services.heat_map(risks)
    assert [row[0] for row in grid] == [Rating.HIGH, Rating.MEDIUM, Rating.LOW]
    top_right = grid[0][1][2]
    assert (top_right.likelihood, top_right.impact, top_right.level) == (Rating.HIGH, Rating.HIGH, Rating.HIGH)
    assert [r.code for r in top_right.risks] == ["5.1", "12.2"]
    assert [r.code for r in grid[2][1][0].risks] == ["1.1"]  # low × low
    placed = [r.code for _, cells in grid for cell in cells for r in cell.risks]
    assert sorted(placed) == sorted(CODES)
    ordered = services.by_severity(risks)
    levels = [r.level for r in ordered]
    assert levels == sorted(levels, key=lambda lv: services.LEVEL_RANK[lv])
    for level in Rating:
        codes = [r.code for r in ordered if r.level == level]
        assert codes == [c for c in CODES if c in codes]  # the register's (code) order within a level
    assert ordered[0].code == "1.2" and ordered[-1].level == Rating.LOW  # 1.2 is high; 1.1 is now low


# --- alerts ------------------------------------------------------------------------------------------------------

def test_red_value_raises_an_alert_and_notifies_the_owner_once(ctx):
    from srpp.core.notify import outbox

    owner = _user(ctx, FINANCE)
    risk = _risk(ctx, "1.2")
    risk.owner_user = owner
    ind = _indicator(ctx, "R-BID-ERROR-RATE", direction="lower", amber="10", red="20")
    _value(ctx, ind, "25.5")
    ctx.flush()
    ctx.expire_all()
    mails_before = len([m for m in outbox() if m["To"] == FINANCE])

    alerts = services.current_alerts()
    risk = _risk(ctx, "1.2")
    [alert] = [a for a in alerts[risk.id] if a.code == "R-BID-ERROR-RATE"]
    assert alert.scope == "Region" and alert.value.value == Decimal("25.5")
    assert alert.url.endswith("/indicators/R-BID-ERROR-RATE")

    first = services.scan_alerts()
    assert first["raised"] >= 1 and first["notified"] >= 1
    second = services.scan_alerts()
    assert second["raised"] == 0 and second["notified"] == 0
    notes = [n for n in _alert_notes(ctx, owner) if n.dedupe_key == f"risk-alert:{risk.id}:R-BID-ERROR-RATE:2031-01-01"]
    assert len(notes) == 1
    assert "1.2" in notes[0].subject and notes[0].link == "/risks/1.2"
    assert "25,5" in notes[0].body and "%" in notes[0].body  # in the owner's language (Lithuanian)
    assert len([m for m in outbox() if m["To"] == FINANCE]) == mails_before + 1
    rows = ctx.scalars(select(RiskAlert).where(RiskAlert.risk_id == risk.id,
                                               RiskAlert.indicator_code == "R-BID-ERROR-RATE")).all()
    assert len(rows) == 1 and rows[0].closed_at is None and rows[0].notified == 1

    # back to green: the alert closes, and nobody is told again
    _value(ctx, ind, "4")
    closed = services.scan_alerts()
    assert closed["closed"] >= 1 and closed["notified"] == 0
    ctx.refresh(rows[0])
    assert rows[0].closed_at is not None
    assert risk.id not in services.current_alerts() or all(
        a.code != "R-BID-ERROR-RATE" for a in services.current_alerts()[risk.id])


def test_green_and_amber_values_raise_no_alert(ctx):
    owner = _user(ctx, FINANCE)
    risk = _risk(ctx, "5.1")
    risk.owner_user = owner
    ind = _indicator(ctx, "R-STOPPAGES", direction="lower", amber="2", red="5", unit="count")
    _value(ctx, ind, "1")
    _value(ctx, ind, "3", municipality_by_code("ROK"))  # amber
    ctx.flush()
    assert all(a.code != "R-STOPPAGES" for a in services.current_alerts().get(risk.id, []))
    services.scan_alerts()
    assert not [n for n in _alert_notes(ctx, owner) if ":R-STOPPAGES:" in n.dedupe_key]
    assert not ctx.scalars(select(RiskAlert).where(RiskAlert.indicator_code == "R-STOPPAGES")).all()


def test_a_municipality_in_the_red_is_an_alert_of_that_scope_and_only_the_latest_period_counts(ctx):
    rok = municipality_by_code("ROK")
    ind = _indicator(ctx, "R-OPTOUTS-ON-TIME", direction="higher", amber="90", red="75")
    # an older red period does not count once a newer period exists
    _value(ctx, ind, "10", rok, dt.date(2030, 7, 1), dt.date(2030, 12, 31))
    _value(ctx, ind, "95")
    _value(ctx, ind, "60", rok)
    risk = _risk(ctx, "3")
    alerts = [a for a in services.current_alerts().get(risk.id, []) if a.code == "R-OPTOUTS-ON-TIME"]
    assert [(a.scope, a.value.value, a.value.period_start) for a in alerts] == [(rok.name, Decimal("60"), P_START)]
    assert alerts[0].shown_value.replace("\xa0", " ") in ("60%", "60 %")
    # no owner user: the council viewers are told
    risk.owner_user = None
    ctx.flush()
    services.scan_alerts()
    council = _user(ctx, COUNCIL)
    assert [n for n in _alert_notes(ctx, council) if ":R-OPTOUTS-ON-TIME:2031-01-01" in n.dedupe_key]


def test_risk_pages_show_the_alert_with_its_indicator(ctx, as_user):
    ind = _indicator(ctx, "R-INCIDENTS", direction="lower", amber="1", red="3", unit="count")
    _value(ctx, ind, "4", municipality_by_code("BIR"))
    client = as_user(COUNCIL)
    page = client.get("/risks/9").get_data(as_text=True)
    assert "In alert" in page and "/indicators/R-INCIDENTS" in page and "Biržai" in page
    assert 'data-status="red"' in page
    index = client.get("/risks/").get_data(as_text=True)
    assert 'class="risk-flag"' in index and "R-INCIDENTS" in index
    if ctx.scalar(select(Indicator).where(Indicator.code == "R-DPIA")) is None:
        assert "not yet in the registry" in page


def test_scan_task_runs(ctx):
    from workers.tasks.risks import scan

    ind = _indicator(ctx, "R-TRUST", direction="higher", amber="3", red="2", unit="score")
    _value(ctx, ind, "1.5")
    result = scan.apply().get()
    assert result["alerts"] >= 1


# --- reviews and corrective actions ------------------------------------------------------------------------------

def test_review_needs_preventive_measures_for_medium_and_high(ctx):
    council = _user(ctx, COUNCIL)
    risk = _risk(ctx, "4")
    with pytest.raises(DomainError) as err:
        services.add_review(council, risk, services.ReviewInput(dt.date.today(), "medium", "medium"))
    assert err.value.field == "preventive_measures"
    with pytest.raises(DomainError):
        services.add_review(council, risk, services.ReviewInput(dt.date.today() + dt.timedelta(days=1), "low", "low"))
    review = services.add_review(council, risk, services.ReviewInput(dt.date.today(), "low", "medium", note="ok"))
    assert review.level == Rating.LOW and risk.level == Rating.LOW
    # an older review entered late does not change the current rating
    services.add_review(council, risk, services.ReviewInput(dt.date.today() - dt.timedelta(days=30), "high", "high",
                                                            "old measures"))
    assert (risk.likelihood, risk.impact) == (Rating.LOW, Rating.MEDIUM)
    # the database refuses it too
    with pytest.raises(IntegrityError), ctx.begin_nested():
        ctx.add(RiskReview(risk_id=risk.id, reviewed_on=dt.date.today(), likelihood=Rating.HIGH,
                           impact=Rating.MEDIUM))
        ctx.flush()


def test_reviews_and_actions_council_yes_officer_no(ctx, as_user):
    officer = _user(ctx, OFFICER)
    risk = _risk(ctx, "7")
    with pytest.raises(PermissionDenied):
        services.add_review(officer, risk, services.ReviewInput(dt.date.today(), "low", "low"))
    with pytest.raises(PermissionDenied):
        services.add_action(officer, risk, services.ActionInput("x", "y", dt.date.today()))

    client = as_user(OFFICER)
    assert client.get("/risks/7").status_code == 200
    assert "Record a review" not in client.get("/risks/7").get_data(as_text=True)
    assert client.post("/risks/7/reviews", data={"reviewed_on": "2026-01-05", "likelihood": "low",
                                                 "impact": "low"}).status_code == 403
    assert client.post("/risks/7/actions", data={"title": "x", "due_on": "2026-12-01"}).status_code == 403

    client = as_user(COUNCIL)
    today = dt.date.today().isoformat()
    resp = client.post("/risks/7/reviews", data={
        "reviewed_on": today, "likelihood": "high", "impact": "high", "version": str(risk.version),
        "preventive_measures": "Micro-credential programme with PVKC", "note": "Vacancies up",
        "action_title": "Open two training places", "action_owner_text": "PVKC", "action_due_on": "2027-02-01",
        "action_owner_user_id": str(officer.id)})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ctx.expire_all()
    risk = _risk(ctx, "7")
    assert (risk.likelihood, risk.impact, risk.level) == (Rating.HIGH, Rating.HIGH, Rating.HIGH)
    review = risk.reviews[0]
    assert review.note == "Vacancies up" and review.reviewer.email == COUNCIL
    [action] = [a for a in risk.actions if a.title == "Open two training places"]
    assert action.review_id == review.id and action.owner_user_id == officer.id
    [told] = ctx.scalars(select(Notification).where(Notification.user_id == officer.id,
                                                    Notification.dedupe_key == f"risk-action:{action.id}")).all()
    assert told.link == "/risks/7#actions" and "2027-02-01" in told.subject
    # high without preventive measures: the form comes back with the reason
    page = client.post("/risks/7/reviews", data={"reviewed_on": today, "likelihood": "high", "impact": "medium",
                                                 "version": str(risk.version)})
    assert page.status_code == 200 and "preventive measures" in page.get_data(as_text=True)
    resp = client.post("/risks/7/actions", data={"title": "Survey staff turnover", "owner_text": "PRPT",
                                                 "due_on": "2027-03-01"})
    assert resp.status_code == 302

    # the action's owner (an officer) may complete it; another officer may not
    other = _user(ctx, "officer.bir@demo.srpp.lt")
    with pytest.raises(PermissionDenied):
        services.complete_action(other, action, dt.date.today(), None)
    client = as_user(OFFICER)
    resp = client.post(f"/risks/actions/{action.id}/complete", data={"completed_on": today, "version": "1",
                                                                       "completion_note": "Both filled"})
    assert resp.status_code == 302
    ctx.expire_all()
    action = ctx.get(CorrectiveAction, action.id)
    assert action.completed_on == dt.date.today() and action.completion_note == "Both filled"
    with pytest.raises(DomainError):
        services.complete_action(_user(ctx, COUNCIL), action, dt.date.today(), None)
    [untouched] = [a for a in _risk(ctx, "7").actions if a.title == "Survey staff turnover"]
    assert client.post(f"/risks/actions/{untouched.id}/complete",
                       data={"completed_on": today}).status_code == 403


# --- programme targets --------------------------------------------------------------------------------------------

def _status(code, today=None):
    return next(s for s in services.targets_status(today) if s.code == code)


def test_targets_are_loaded_in_three_horizons(ctx):
    statuses = services.targets_status()
    assert len(statuses) == 17 == len(ctx.scalars(select(ProgrammeTarget)).all())
    by = services.targets_by_horizon()
    assert [h.value for h, _ in by] == ["immediate", "short", "medium"]
    assert [len(s) for _, s in by] == [5, 6, 6]
    assert {s.state for s in statuses} <= {"done", "on_track", "overdue"}
    assert services.programme_start() == dt.date(2026, 1, 1)  # the default
    assert (_status("T1.1").due_on, _status("T2.1").due_on, _status("T3.1").due_on) == (
        dt.date(2026, 4, 1), dt.date(2027, 1, 1), dt.date(2029, 1, 1))
    assert [s.code for s in statuses if s.manual] == ["T1.5", "T2.5", "T3.1", "T3.2", "T3.4", "T3.5"]


def test_three_frameworks_in_ltc_mobility_and_housing_meet_the_target(ctx):
    from srpp.frameworks.models import CallOffMethod, FrameworkAgreement, FrameworkState
    from srpp.orgs.models import PriorityArea, ServiceCategory

    ctx.execute(update(FrameworkAgreement).values(state=FrameworkState.TERMINATED))
    ctx.expire_all()
    early, late = dt.date(2026, 6, 1), dt.date(2027, 6, 1)
    status = _status("T2.1", early)
    assert status.state == "on_track" and status.evidence.current == 0
    assert _status("T2.1", late).state == "overdue"
    kup = municipality_by_code("KUP")
    for n, area in enumerate((PriorityArea.LTC, PriorityArea.MOBILITY)):
        cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.priority_area == area).limit(1))
        ctx.add(FrameworkAgreement(code=f"FA-T-{n}", title=f"Test {area}", category_id=cat.id, municipality_id=kup.id,
                                   start_date=dt.date(2026, 3, 1), end_date=dt.date(2029, 2, 28),
                                   estimated_value=Decimal(1000), max_value=Decimal(2000),
                                   call_off_method=CallOffMethod.DIRECT, state=FrameworkState.ACTIVE))
    ctx.flush()
    two = _status("T2.1", early)
    assert two.state == "on_track" and two.evidence.current == 2 and not two.evidence.met
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.priority_area == PriorityArea.HOUSING).limit(1))
    ctx.add(FrameworkAgreement(code="FA-T-H", title="Test housing", category_id=cat.id, municipality_id=kup.id,
                               start_date=dt.date(2026, 3, 1), end_date=dt.date(2027, 2, 28),
                               estimated_value=Decimal(1000), max_value=Decimal(2000),
                               call_off_method=CallOffMethod.DIRECT, state=FrameworkState.ACTIVE))
    ctx.flush()
    done = _status("T2.1", late)
    assert done.state == "done" and done.evidence.met and done.evidence.current == 3
    assert "Social housing: 1" in done.summary
    # one of them runs 35 months, so with an advance-paid contract the multi-year funding target is met too
    from srpp.contracts.models import Contract

    contract = ctx.scalar(select(Contract).limit(1))
    contract.advance_percent = Decimal(10)
    ctx.flush()
    assert _status("T3.3").evidence.met


def test_handbook_target_needs_the_handbook_and_a_note_per_municipality(ctx):
    from srpp.core.models import JobRun, JobState
    from srpp.documents.models import GeneratedDocument
    from srpp.orgs.services import municipalities

    def doc(kind, subject_type, subject_id, state=JobState.DONE):
        job = JobRun(task="test", state=state, payload={})
        ctx.add(job)
        ctx.flush()
        ctx.add(GeneratedDocument(kind=kind, subject_type=subject_type, subject_id=subject_id, language="lt",
                                  title=kind, job_id=job.id, file_name=f"{kind}.docx"))
        ctx.flush()

    # whatever the demo generated does not count here
    ctx.execute(update(JobRun).where(JobRun.id.in_(select(GeneratedDocument.job_id))).values(state=JobState.FAILED))
    assert _status("T1.1").evidence.current == 0
    munis = municipalities()
    region_id = munis[0].region_id
    doc("handbook", "region", region_id, JobState.FAILED)  # a failed generation is not a published handbook
    for m in munis[:-1]:
        doc("implementation_note", "municipality", m.id)
    partial = _status("T1.1").evidence
    assert not partial.met and partial.current == len(munis) - 1 and partial.required == len(munis) == 6
    doc("handbook", "region", region_id)
    assert not _status("T1.1").evidence.met
    doc("implementation_note", "municipality", munis[-1].id)
    assert _status("T1.1").evidence.met and _status("T1.1").state == "done"


def test_plans_and_contact_point_targets_follow_the_records(ctx):
    from srpp.orgs.services import municipalities
    from srpp.plans.services import current_published

    plans = _status("T1.2")
    published = sum(1 for m in municipalities() if current_published(m) is not None)
    assert plans.evidence.current == published and plans.evidence.met == (published == 6)
    assert _status("T1.3").evidence.met  # council@demo is the regional contact point
    ctx.execute(update(User).where(User.email == COUNCIL).values(active=False))
    ctx.expire_all()
    assert not _status("T1.3").evidence.met


def test_panauda_target_counts_the_asset_agreements(ctx, monkeypatch):
    from srpp.assets.models import AssetAssignment, AssetCondition, AssetKind, SocialAsset
    from srpp.orgs.models import Supplier

    before = services.panauda_count()
    assert _status("T2.2").evidence.current == before
    rok = municipality_by_code("ROK")
    seo = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    start = dt.date.today() - dt.timedelta(days=30)
    for n in range(10 - before):
        status = _status("T2.2")
        assert not status.evidence.met and status.evidence.current == before + n
        asset = SocialAsset(municipality_id=rok.id, name=f"Test premises {n}", address="Test g. 1", settlement="Rokiškis",
                            kind=AssetKind.PREMISES, condition=AssetCondition.GOOD, eligibility_criteria="SEOs",
                            impact_criteria="Day care", maintenance_duties="Cleaning")
        ctx.add(asset)
        ctx.flush()
        ctx.add(AssetAssignment(asset_id=asset.id, municipality_id=rok.id, supplier_id=seo.id, start_date=start,
                                end_date=start + dt.timedelta(days=365), obligations="Keep it open"))
        ctx.flush()
    status = _status("T2.2")
    assert status.evidence.met and status.evidence.current >= 10 and status.state == "done"
    monkeypatch.setattr(services, "panauda_count", lambda today=None: None)
    assert "not available" in _status("T2.2").summary


def test_manual_target_is_marked_by_the_council(ctx, as_user):
    council, officer = _user(ctx, COUNCIL), _user(ctx, OFFICER)
    target = services.get_target("T2.5")
    assert _status("T2.5", dt.date(2026, 6, 1)).state == "on_track"
    with pytest.raises(PermissionDenied):
        services.mark_target(officer, target, dt.date.today(), "x")
    with pytest.raises(DomainError):
        services.mark_target(council, services.get_target("T2.1"), dt.date.today(), "x")
    with pytest.raises(DomainError) as err:
        services.mark_target(council, target, dt.date.today(), "  ")
    assert err.value.field == "evidence"

    client = as_user(OFFICER)
    assert client.post("/risks/targets/T2.5/mark", data={"done_on": "2026-10-01", "evidence": "x"}).status_code == 403
    client = as_user(COUNCIL)
    resp = client.post("/risks/targets/T2.5/mark", data={"done_on": "2026-10-01", "version": str(target.version),
                                                         "evidence": "Meetings on 15 Jan, 15 Apr, 15 Jul, 15 Oct"})
    assert resp.status_code == 302
    ctx.expire_all()
    status = _status("T2.5")
    assert status.state == "done" and status.done_on == dt.date(2026, 10, 1)
    assert status.summary == "Meetings on 15 Jan, 15 Apr, 15 Jul, 15 Oct"
    page = client.get("/risks/targets").get_data(as_text=True)
    assert 'id="target-T2.5" data-code="T2.5" data-state="done"' in page
    assert client.post("/risks/targets/T2.5/reopen", data={}).status_code == 302
    ctx.expire_all()
    assert _status("T2.5").state != "done" and services.get_target("T2.5").done_evidence is None


def test_programme_start_setting_moves_the_due_dates(ctx):
    from srpp.core import settings

    admin = _user(ctx, ADMIN)
    settings.set_value(admin, "risks.programme_start", "2027-01-01")
    assert _status("T1.2").due_on == dt.date(2027, 4, 1)
    with pytest.raises(DomainError):
        settings.set_value(admin, "risks.programme_start", "1 January")


# --- access -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, status", [(None, 302), (SEO, 403), (OFFICER, 200), (FINANCE, 200), (COUNCIL, 200),
                                           (ADMIN, 200)])
def test_who_may_see_the_register(ctx, client, as_user, email, status):
    c = as_user(email) if email else client
    for url in ("/risks/", "/risks/1.1", "/risks/targets"):
        resp = c.get(url)
        assert resp.status_code == status, (url, email)
        if status == 302:
            assert "/login" in resp.headers["Location"]
    if status == 200:
        assert c.get("/risks/6").status_code == 404


def test_bundle_and_navigator_lots_count_once_their_tender_is_issued(ctx):
    from srpp.orgs.models import ServiceCategory
    from srpp.tenders.models import Lot, Tender, TenderState

    bundle = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "BUNDLE_CARE_MOB"))
    navigator = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "NAVIGATOR"))
    lots, navigators = _status("T2.3").evidence.current, _status("T2.4").evidence.current
    issued = ctx.scalar(select(Lot).join(Tender).where(
        Tender.state == TenderState.PUBLISHED, Lot.category_id.notin_([bundle.id, navigator.id])).limit(1))
    issued.category_id = bundle.id
    ctx.flush()
    status = _status("T2.3")
    assert status.evidence.current == lots + 1 and status.evidence.met
    ctx.execute(update(Tender).where(Tender.id == issued.tender_id).values(state=TenderState.DRAFT))
    ctx.expire_all()
    assert _status("T2.3").evidence.current == lots  # a draft is not issued
    ctx.execute(update(Tender).where(Tender.id == issued.tender_id).values(state=TenderState.AWARDED))
    ctx.execute(update(Lot).where(Lot.id == issued.id).values(category_id=navigator.id))
    ctx.expire_all()
    assert _status("T2.4").evidence.current == navigators + 1 and _status("T2.4").evidence.met


def test_plan_refresh_within_six_months_of_the_first_publication(ctx):
    from dateutil.relativedelta import relativedelta

    from srpp.orgs.services import municipalities
    from srpp.plans.models import PlanState, PlanVersion

    munis = municipalities()
    firsts = {}
    for m in munis:  # only the first publication stays near; the later ones move ten years on
        first = ctx.scalar(select(PlanVersion).where(PlanVersion.municipality_id == m.id,
                                                     PlanVersion.published_at.is_not(None))
                           .order_by(PlanVersion.published_at).limit(1))
        assert first is not None, m.code
        firsts[m] = first
        ctx.execute(update(PlanVersion).where(PlanVersion.municipality_id == m.id, PlanVersion.id != first.id,
                                              PlanVersion.published_at.is_not(None))
                    .values(published_at=first.published_at + relativedelta(years=10)))
    ctx.expire_all()
    status = _status("T2.6")
    assert status.evidence.current == 0 and not status.evidence.met
    for n, (m, first) in enumerate(firsts.items()):
        months = 7 if n == 0 else 5  # the first municipality refreshes too late
        number = ctx.scalar(select(PlanVersion.number).where(PlanVersion.plan_id == first.plan_id)
                            .order_by(PlanVersion.number.desc()).limit(1)) + 1
        ctx.add(PlanVersion(plan_id=first.plan_id, municipality_id=m.id, number=number, state=PlanState.SUPERSEDED,
                            published_at=first.published_at + relativedelta(months=months)))
    ctx.flush()
    status = _status("T2.6")
    assert status.evidence.current == len(munis) - 1 and not status.evidence.met
    late = next(iter(firsts.values()))
    ctx.execute(update(PlanVersion).where(PlanVersion.plan_id == late.plan_id, PlanVersion.published_at
                                          == late.published_at + relativedelta(months=7))
                .values(published_at=late.published_at + relativedelta(months=6)))
    ctx.expire_all()
    status = _status("T2.6")
    assert status.evidence.current == len(munis) and status.evidence.met


def test_annual_impact_report_for_every_completed_year(ctx):
    from srpp.core.models import JobRun, JobState
    from srpp.documents.models import GeneratedDocument

    ctx.execute(update(JobRun).where(JobRun.id.in_(select(GeneratedDocument.job_id).where(
        GeneratedDocument.kind == "impact_report"))).values(state=JobState.FAILED))
    assert _status("T3.6", dt.date(2026, 12, 1)).evidence.required == 0  # no programme year has ended
    status = _status("T3.6", dt.date(2028, 3, 1))
    assert not status.evidence.met and status.evidence.required == 2 and "2026, 2027" in status.summary
    for year in (2026, 2027):
        job = JobRun(task="test", state=JobState.DONE, payload={})
        ctx.add(job)
        ctx.flush()
        ctx.add(GeneratedDocument(kind="impact_report", subject_type="impact_year", subject_id=year, language="lt",
                                  title=f"Impact {year}", job_id=job.id, file_name=f"impact-{year}.docx"))
        ctx.flush()
    status = _status("T3.6", dt.date(2028, 3, 1))
    assert status.evidence.met and status.state == "done"
