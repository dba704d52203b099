"""Plan rules (table-driven), versioning, differences, review reminders and the reserved share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.orgs.models import ServiceCategory
from srpp.plans import services
from srpp.plans.models import PlanState, PlanVersion
from srpp.rules.models import Procedure, ReservationBasis


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


def _cat(ctx, key):
    return ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == key))


@pytest.fixture()
def kup_draft(ctx):
    """A new KUP plan for 2028 (no overlap with the demo plan), as a draft."""
    from srpp.orgs.services import municipality_by_code

    officer = _user(ctx, "officer.kup@demo.srpp.lt")
    version = services.create_plan(officer, municipality_by_code("KUP"), dt.date(2028, 1, 1))
    return officer, version


def _input(ctx, **overrides) -> services.ItemInput:
    cat = _cat(ctx, overrides.pop("category", "DEM_DAY"))
    base = dict(title="Demencijos dienos priežiūra", category_id=cat.id, main_cpv=cat.main_cpv,
                estimated_value=Decimal("60000"), launch_month=dt.date(2028, 3, 1), duration_months=12,
                procedure=Procedure.SIMPLIFIED)
    base.update(overrides)
    return services.ItemInput(**base)


RULES = [
    # (overrides, field that must be refused or None when valid)
    ({}, None),
    ({"estimated_value": Decimal("0")}, "estimated_value"),
    ({"estimated_value": Decimal("-5")}, "estimated_value"),
    ({"launch_month": dt.date(2027, 12, 1)}, "launch_month"),
    ({"launch_month": dt.date(2029, 1, 1)}, "launch_month"),
    ({"launch_month": dt.date(2028, 12, 1)}, None),
    ({"duration_months": 0}, "duration_months"),
    ({"duration_months": 121}, "duration_months"),
    ({"duration_months": 120}, None),
    ({"main_cpv": "85312100-1"}, "main_cpv"),
    ({"additional_cpv": ["99999999-9"]}, "additional_cpv"),
    ({"reservation": ReservationBasis.EU_ART77}, None),
    ({"reservation": ReservationBasis.EU_ART77, "duration_months": 36}, None),
    ({"reservation": ReservationBasis.EU_ART77, "duration_months": 37}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART77, "category": "DRT"}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART77, "additional_cpv": ["60140000-1"]}, "reservation"),
    ({"reservation": ReservationBasis.EU_ART20, "category": "DRT"}, None),
    # social services: 750 000 threshold; supplies/services (DRT, transport): 216 000 in 2026-2027
    ({"estimated_value": Decimal("749999.99")}, None),
    ({"estimated_value": Decimal("750000")}, "procedure"),
    ({"estimated_value": Decimal("750000"), "procedure": Procedure.LIGHT_REGIME}, None),
    ({"category": "DRT", "estimated_value": Decimal("215999.99"), "launch_month": dt.date(2028, 2, 1)}, None),
    ({"category": "DRT", "estimated_value": Decimal("216000"), "launch_month": dt.date(2028, 2, 1)}, "procedure"),
    ({"category": "DRT", "estimated_value": Decimal("300000"), "procedure": Procedure.LIGHT_REGIME}, "procedure"),
    ({"category": "DRT", "estimated_value": Decimal("300000"), "procedure": Procedure.OPEN}, None),
    ({"intended_lots": 0}, "intended_lots"),
    ({"title": "  "}, "title"),
]


@pytest.mark.parametrize(("overrides", "refused_field"), RULES)
def test_item_rules(ctx, kup_draft, overrides, refused_field):
    _, version = kup_draft
    problems = services.check_item(_input(ctx, **overrides), version.plan)
    fields = [p.field for p in problems]
    if refused_field is None:
        assert fields == []
    else:
        assert refused_field in fields


def test_threshold_message_names_the_threshold(ctx, kup_draft):
    _, version = kup_draft
    problems = services.check_item(_input(ctx, category="DRT", estimated_value=Decimal("250000")), version.plan)
    message = [p.message for p in problems if p.field == "procedure"][0]
    from srpp.core.i18n import money

    assert money(Decimal("216000")) in message and "2026-01-01" in message and "2027-12-31" in message


def test_threshold_follows_the_launch_date(ctx):
    from srpp.rules import services as rules

    codes = ["60140000-1"]
    assert rules.applicable_threshold(codes, dt.date(2025, 6, 1)).amount == Decimal("221000")
    assert rules.applicable_threshold(codes, dt.date(2026, 6, 1)).amount == Decimal("216000")
    assert rules.applicable_threshold(["85312100-0"], dt.date(2026, 6, 1)).amount == Decimal("750000")
    assert rules.applicable_threshold(["45453000-7"], dt.date(2026, 6, 1)).amount == Decimal("5404000")


def test_publish_supersedes_and_freezes(ctx, kup_draft):
    officer, v1 = kup_draft
    services.add_item(officer, v1, _input(ctx))
    services.publish(officer, v1, "first")
    from dateutil.relativedelta import relativedelta

    assert v1.state == PlanState.PUBLISHED
    assert v1.review_due == v1.published_at.date() + relativedelta(months=6)
    with pytest.raises(DomainError):
        services.add_item(officer, v1, _input(ctx, title="Too late"))
    v2 = services.start_new_version(officer, v1.plan)
    assert v2.number == 2 and [i.uid for i in v2.items] == [i.uid for i in v1.items]
    assert services.start_new_version(officer, v1.plan) is v2  # one draft at a time
    services.update_item(officer, v2.items[0], _input(ctx, estimated_value=Decimal("65000")))
    services.add_item(officer, v2, _input(ctx, title="Atokvėpis", category="RESPITE"))
    services.publish(officer, v2, "second")
    assert v1.state == PlanState.SUPERSEDED and v2.state == PlanState.PUBLISHED
    assert v1.items[0].estimated_value == Decimal("60000")  # what was published stays readable
    d = services.diff(v1, v2)
    assert [i.title for i in d.added] == ["Atokvėpis"] and d.removed == []
    (item, changes), = d.changed
    assert list(changes) == ["estimated_value"]
    from srpp.core.i18n import money

    assert changes["estimated_value"] == (money(Decimal("60000")), money(Decimal("65000")))


def test_unchanged_items_keep_their_feed_timestamp(ctx, kup_draft):
    officer, v1 = kup_draft
    services.add_item(officer, v1, _input(ctx))
    services.add_item(officer, v1, _input(ctx, title="Kitas"))
    services.publish(officer, v1)
    stamps = {i.uid: i.content_changed_at for i in v1.items}
    v2 = services.start_new_version(officer, v1.plan)
    services.update_item(officer, v2.items[1], _input(ctx, title="Kitas (pakeistas)"))
    services.publish(officer, v2)
    assert v2.items[0].content_changed_at == stamps[v2.items[0].uid]
    assert v2.items[1].content_changed_at > stamps[v2.items[1].uid]


def test_one_published_plan_per_month(ctx, kup_draft):
    from srpp.orgs.services import municipality_by_code

    officer, v1 = kup_draft
    services.add_item(officer, v1, _input(ctx))
    services.publish(officer, v1)
    overlapping = services.create_plan(officer, municipality_by_code("KUP"), dt.date(2028, 6, 1))
    services.add_item(officer, overlapping, _input(ctx, launch_month=dt.date(2028, 7, 1)))
    with pytest.raises(DomainError, match="only one published plan"):
        services.publish(officer, overlapping)


def test_empty_draft_cannot_be_published(ctx, kup_draft):
    officer, v1 = kup_draft
    with pytest.raises(DomainError):
        services.publish(officer, v1)


def test_database_refuses_two_published_versions(ctx, kup_draft):
    from sqlalchemy.exc import IntegrityError

    from srpp.core.db import utcnow

    officer, v1 = kup_draft
    services.add_item(officer, v1, _input(ctx))
    services.publish(officer, v1)
    rogue = PlanVersion(plan=v1.plan, municipality_id=v1.municipality_id, number=9, state=PlanState.PUBLISHED,
                        published_at=utcnow())
    ctx.add(rogue)
    with pytest.raises(IntegrityError):
        ctx.flush()
    ctx.rollback()


def test_officer_of_another_municipality_is_refused(ctx, kup_draft):
    from srpp.core.permissions import PermissionDenied

    _, version = kup_draft
    with pytest.raises(PermissionDenied):
        services.add_item(_user(ctx, "officer.rok@demo.srpp.lt"), version, _input(ctx))
    with pytest.raises(PermissionDenied):
        services.add_item(_user(ctx, "council@demo.srpp.lt"), version, _input(ctx))


def test_review_status_and_scan(ctx):
    from srpp.core.models import Notification
    from srpp.orgs.services import municipality_by_code

    pan_d = services.current_published(municipality_by_code("PAN-D"))
    assert services.review_status(pan_d, dt.date(2026, 11, 25)).state == "overdue"
    rok = services.current_published(municipality_by_code("ROK"))
    assert services.review_status(rok, dt.date(2026, 11, 25)).state == "ok"
    assert services.review_status(rok, rok.review_due - dt.timedelta(days=3)).state == "due_soon"
    sent = services.review_scan(dt.date(2026, 11, 25))
    again = services.review_scan(dt.date(2026, 11, 25))
    assert sent >= 1 and again == 0
    officer = _user(ctx, "officer.pan-d@demo.srpp.lt")
    notes = ctx.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert len([n for n in notes if n.kind == "plan.review"]) == 1
    from srpp.core.notify import outbox

    assert any(m["To"] == "officer.pan-d@demo.srpp.lt" for m in outbox())


def test_reserved_share(ctx, kup_draft):
    officer, v1 = kup_draft
    services.add_item(officer, v1, _input(ctx, estimated_value=Decimal("100000")))
    services.add_item(officer, v1, _input(ctx, title="R", estimated_value=Decimal("1000"),
                                          reservation=ReservationBasis.EU_ART20))
    share = services.reserved_share(v1.items)
    assert share.simplified_value == Decimal("101000") and share.reserved_value == Decimal("1000")
    assert share.ratio == Decimal("0.0099") and share.below_minimum
    services.add_item(officer, v1, _input(ctx, title="R2", estimated_value=Decimal("2000"),
                                          reservation=ReservationBasis.LT_23_1_5))
    assert not services.reserved_share(v1.items).below_minimum


def test_pages_for_the_officer(as_user, ctx):
    from srpp.orgs.services import municipality_by_code

    client = as_user("officer.rok@demo.srpp.lt")
    rok = services.current_published(municipality_by_code("ROK"))
    bir = services.current_published(municipality_by_code("BIR"))
    assert client.get(f"/plans/versions/{rok.id}").status_code == 200
    assert client.post(f"/plans/{bir.plan_id}/new-version").status_code == 403
    resp = client.post(f"/plans/{rok.plan_id}/new-version")
    draft_url = resp.headers["Location"]
    page = client.get(draft_url).get_data(as_text=True)
    assert "Publish version 2" in page
    history = client.get(f"/plans/{bir.plan_id}/history").get_data(as_text=True)
    assert "Atokvėpio paslauga" in history and "<ins>€32,000.00</ins>" in history


def test_item_form_shows_the_rule_that_refused(as_user, ctx):
    from srpp.orgs.services import municipality_by_code

    client = as_user("officer.rok@demo.srpp.lt")
    plan_id = services.current_published(municipality_by_code("ROK")).plan_id
    draft_url = client.post(f"/plans/{plan_id}/new-version").headers["Location"]
    version_id = int(draft_url.rsplit("/", 1)[1])
    drt = _cat(ctx, "DRT")
    resp = client.post(f"/plans/versions/{version_id}/items/new", data={
        "title": "Transportas", "category_id": drt.id, "main_cpv": "60140000-1", "estimated_value": "250 000,00",
        "launch_month": "2027-03", "duration_months": "12", "procedure": "simplified", "reservation": "res-pub-ser",
        "intended_lots": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "not on it: 60140000-1" in page
    assert "€216,000.00" in page and "simplified procedure cannot be used" in page
    count = len(ctx.get(PlanVersion, version_id).items)
    resp = client.post(f"/plans/versions/{version_id}/items/new", data={
        "title": "Transportas <script>", "category_id": drt.id, "main_cpv": "60140000-1",
        "estimated_value": "25 000,50", "launch_month": "2027-03", "duration_months": "12",
        "procedure": "simplified", "reservation": "none", "intended_lots": "1"})
    assert resp.status_code == 302
    ctx.expire_all()
    version = ctx.get(PlanVersion, version_id)
    assert len(version.items) == count + 1
    assert version.items[-1].estimated_value == Decimal("25000.50")
    page = client.get(f"/plans/versions/{version_id}").get_data(as_text=True)
    assert "Transportas &lt;script&gt;" in page


def test_admin_changes_the_minimum_share_and_it_is_audited(as_user, ctx):
    from srpp.core import settings
    from srpp.core.models import AuditEvent

    client = as_user("admin@demo.srpp.lt")
    resp = client.post("/admin/settings", data={"plans.reserved_min_share": "1,5"})
    assert resp.status_code == 200 and "between" in resp.get_data(as_text=True)
    assert settings.get("plans.reserved_min_share") == Decimal("0.02")
    resp = client.post("/admin/settings", data={"plans.reserved_min_share": "0,05"})
    assert resp.status_code == 302
    ctx.expire_all()
    assert settings.get("plans.reserved_min_share") == Decimal("0.05")
    event = ctx.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Setting")).all()[-1]
    assert event.changes["value"] == [None, "0.05"] and event.actor_label == "admin@demo.srpp.lt"
