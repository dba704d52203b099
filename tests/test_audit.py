from __future__ import annotations

from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.models import AuditAction, AuditEvent


def _events(session, entity_type: str, entity_id) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.id)
    ))


def test_change_writes_exactly_one_event_with_old_and_new(client, ctx):
    from srpp.orgs.services import municipality_by_code

    rok = municipality_by_code("ROK")
    old_email, before = rok.contact_email, len(_events(ctx, "Municipality", rok.id))
    client.post("/login", data={"email": "officer.rok@demo.srpp.lt", "password": "demo12345"})
    resp = client.post("/municipalities/ROK/edit", data={
        "contact_email": "viesieji.pirkimai@rok.lt", "contact_phone": rok.contact_phone, "address": rok.address,
        "website": "", "procurement_note": rok.procurement_note or "", "version": rok.version})
    assert resp.status_code == 302
    events = _events(ctx, "Municipality", rok.id)
    assert len(events) == before + 1
    ev = events[-1]
    assert ev.action == AuditAction.UPDATE
    assert ev.actor_label == "officer.rok@demo.srpp.lt"
    assert ev.municipality_id == rok.id
    assert ev.changes == {"contact_email": [old_email, "viesieji.pirkimai@rok.lt"]}


def test_create_and_delete_are_audited(ctx):
    from srpp.auth import services
    from srpp.auth.models import Role
    from srpp.core.audit import bind_actor

    admin = ctx.scalar(select(User).where(User.email == "admin@demo.srpp.lt"))
    bind_actor(ctx(), admin)
    user = services.create_user(admin, email="New.Person@Example.org", full_name="New Person", password="x" * 12)
    m = services.add_membership(admin, user, Role.COUNCIL_VIEWER, region_id=1)
    ctx.flush()
    created = _events(ctx, "User", user.id)
    assert [e.action for e in created] == [AuditAction.CREATE]
    assert created[0].changes["email"] == [None, "new.person@example.org"]
    assert "password_hash" not in created[0].changes
    services.remove_membership(admin, m)
    ctx.flush()
    deleted = _events(ctx, "Membership", m.id)
    assert [e.action for e in deleted] == [AuditAction.CREATE, AuditAction.DELETE]
    assert deleted[-1].actor_label == "admin@demo.srpp.lt"


def test_no_event_when_nothing_changed(ctx):
    from srpp.orgs.services import municipality_by_code

    rok = municipality_by_code("ROK")
    before = len(_events(ctx, "Municipality", rok.id))
    rok.contact_email = rok.contact_email
    ctx.flush()
    assert len(_events(ctx, "Municipality", rok.id)) == before


def test_council_can_filter_the_audit_log(as_user, ctx):
    from srpp.orgs.services import municipality_by_code

    rok = municipality_by_code("ROK")
    rok.contact_phone = "+370 458 99999"
    ctx.commit()
    client = as_user("council@demo.srpp.lt")
    resp = client.get(f"/admin/audit?entity_type=Municipality&municipality_id={rok.id}")
    assert resp.status_code == 200
    assert "+370 458 99999" in resp.get_data(as_text=True)
    resp = client.get("/admin/audit?entity_type=User&action=delete")
    assert "+370 458 99999" not in resp.get_data(as_text=True)


def test_rows_removed_by_a_delete_orphan_cascade_are_audited(ctx):
    """Removing a milestone from a contract's schedule deletes the row through the delete-orphan
    cascade: it never appears in session.deleted, and the audit log still records it."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select

    from srpp.auth.models import User
    from srpp.contracts import services as contracts
    from srpp.contracts.models import MilestoneTrigger
    from srpp.core.models import AuditAction, AuditEvent
    from srpp.extensions import db
    from srpp.orgs.models import Supplier
    from srpp.orgs.services import municipality_by_code

    officer = db.session.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt"))
    supplier = db.session.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    contract = contracts.create_contract(
        officer, contracts.ContractInput(municipality_by_code("ROK").id, supplier.id, "Audit cascade test",
                                         Decimal("1000.00"), dt.date(2025, 1, 1), dt.date(2025, 12, 31),
                                         "85312100-0"), contracts.TermsInput())
    two = [contracts.MilestoneInput("First", MilestoneTrigger.SIGNING, share_percent=Decimal(50)),
           contracts.MilestoneInput("Second", MilestoneTrigger.SIGNING, share_percent=Decimal(50))]
    milestones = contracts.set_schedule(officer, contract, two)
    removed_id = milestones[1].id
    contracts.set_schedule(officer, contract, [contracts.MilestoneInput("All", MilestoneTrigger.SIGNING,
                                                                        share_percent=Decimal(100))])
    db.session.flush()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "PaymentMilestone",
                                                       AuditEvent.entity_id == str(removed_id),
                                                       AuditEvent.action == AuditAction.DELETE))
    assert event is not None, "the orphan's deletion is in the audit log"
    assert event.changes["title"] == ["Second", None]
    assert event.actor_label == officer.email
