"""The demo history (srpp/demo/history.py): after the demo load, the computed indicators that read past
procurement have region values in the last four completed half-years, and no history date is in the future."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from srpp.extensions import db

pytestmark = pytest.mark.postgres

CODES = ("G2", "P1", "P1-SINGLE-BID", "P2", "P3", "R-AVG-LOT-SIZE", "R-BID-ERROR-RATE", "R-OPTOUTS-ON-TIME",
         "R-REPORT-TIMELINESS", "R-RESERVED-SHARE", "R-RURAL-SHARE", "R-RENEWED")


def test_the_computed_indicators_have_region_values_in_the_past_half_years(ctx):
    from srpp.kpis.demo import demo_periods
    from srpp.kpis.models import Indicator, IndicatorValue

    starts = [start for start, _end in demo_periods(dt.date.today())]
    rows = db.session.execute(
        select(Indicator.code, IndicatorValue.period_start, IndicatorValue.value)
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(Indicator.code.in_(CODES), IndicatorValue.scope_key == "region",
               IndicatorValue.period_start.in_(starts), IndicatorValue.value.is_not(None))).all()
    periods: dict[str, set[dt.date]] = {code: set() for code in CODES}
    for code, start, _value in rows:
        periods[code].add(start)
    thin = {code: len(found) for code, found in periods.items() if len(found) < 3}
    assert not thin, f"indicators with region values in fewer than 3 of the last 4 half-years: {thin}"


def test_the_history_records_exist_and_none_is_dated_in_the_future(ctx):
    from srpp.contracts.models import Contract
    from srpp.frameworks.models import FrameworkAgreement, FrameworkParticipant
    from srpp.payments.models import PaymentReport, ReportState
    from srpp.plans.models import PlanState, PlanVersion
    from srpp.tenders.models import Bid, Lot, Tender, TenderState

    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    past = (select(Tender).where(Tender.state == TenderState.AWARDED, Tender.submission_deadline < today))
    past_tenders = db.session.scalars(past).all()
    assert len(past_tenders) >= 12
    assert {t.municipality.code for t in past_tenders} == {"PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"}
    for tender in past_tenders:
        assert tender.published_at <= now and tender.submission_deadline <= today
        assert 2 <= len(tender.lots) <= 3
        for lot in tender.lots:
            assert lot.award_date is not None and lot.award_date <= today
    lot_ids = [lot.id for t in past_tenders for lot in t.lots]
    assert db.session.scalar(select(func.count()).select_from(Bid).where(
        Bid.lot_id.in_(lot_ids), Bid.compliant.is_(False))) >= 3
    assert db.session.scalar(select(func.count()).select_from(Lot).where(
        Lot.id.in_(lot_ids), Lot.reservation != "none")) >= 8
    assert db.session.scalar(select(func.max(Contract.awarded_on)).where(Contract.lot_id.in_(lot_ids))) <= today
    assert db.session.scalar(select(func.max(PlanVersion.published_at)).where(
        PlanVersion.state == PlanState.PUBLISHED)) <= now
    reports = db.session.scalars(select(PaymentReport).where(PaymentReport.state == ReportState.PUBLISHED)).all()
    assert len(reports) >= 8
    assert all(r.published_at <= now and r.approved_on <= today and r.approved_on > r.period_end for r in reports)
    fa = db.session.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == "FA-MOB-DRT-2024"))
    assert fa is not None and fa.end_date < today
    withdrawn = db.session.scalars(select(FrameworkParticipant).where(
        FrameworkParticipant.framework_id == fa.id, FrameworkParticipant.withdrawn_on.is_not(None))).all()
    assert len(withdrawn) == 4
    assert all(p.withdrawn_on <= p.opt_out_effective_on <= today for p in withdrawn)
