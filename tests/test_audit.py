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
