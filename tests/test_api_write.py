"""JSON API writes (issue 9): plan items (create, change with optimistic locking, delete) and the
invoice import, with API tokens scoped by their user's roles and municipality, and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import count_rows

pytestmark = pytest.mark.postgres

ITEM = {
    "municipality": "ROK", "title": "API: dienos centras asmenims su demencija", "category": "DEM_DAY",
    "main_cpv": "85312100-0", "estimated_value": "45000.00", "launch_month": "2027-03", "duration_months": 24,
    "procedure": "simplified", "funding_measure": "MUNICIPAL",
}


@pytest.fixture()
def token(ctx):
    """``token(email, can_write=True, expires_on=None)`` → the Authorization headers of a new token."""
    from srpp.api import services as api_services
    from srpp.auth.models import User

    def _make(email: str, can_write: bool = True, expires_on: dt.date | None = None) -> dict[str, str]:
        user = ctx.scalar(select(User).where(User.email == email))
        _row, plaintext = api_services.issue(user, "test token", can_write=can_write, expires_on=expires_on)
        ctx.commit()
        return {"Authorization": f"Bearer {plaintext}", "Accept-Language": "en"}

    return _make


def _user_id(ctx, email: str) -> int:
    from srpp.auth.models import User

    return ctx.scalar(select(User.id).where(User.email == email))


def _plan_counts(conn) -> tuple[int, int, int]:
    return count_rows(conn, "plan_items"), count_rows(conn, "plan_versions"), count_rows(conn, "audit_events")


def _published_item(ctx, code: str):
    from srpp.orgs.services import municipality_by_code
    from srpp.plans.services import current_published

    return current_published(municipality_by_code(code)).items[0]


# --- authentication and scope ---------------------------------------------------------------------

def test_wrong_token_is_401_and_nothing_changes(client, conn):
    before = _plan_counts(conn)
    for header in ("Bearer srpp_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer x" * 30):
        resp = client.post("/api/v1/plan-items", json=ITEM, headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert resp.json["error"]["code"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert _plan_counts(conn) == before


def test_write_without_token_is_401_even_when_logged_in(as_user, conn):
    """Writes carry no CSRF token, so a browser session must not do."""
    client = as_user("officer.rok@demo.srpp.lt")
    before = _plan_counts(conn)
    resp = client.post("/api/v1/plan-items", json=ITEM)
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    assert _plan_counts(conn) == before


def test_read_only_token_is_403_token_read_only(client, conn, token):
    headers = token("officer.rok@demo.srpp.lt", can_write=False)
    before = _plan_counts(conn)
    resp = client.post("/api/v1/plan-items", json=ITEM, headers=headers)
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "token_read_only"
    assert _plan_counts(conn)[:2] == before[:2]
    # the same token reads
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200


def test_revoked_and_expired_tokens_are_refused(client, ctx, conn, token):
    from srpp.api import services as api_services
    from srpp.api.models import ApiToken

    revoked = token("officer.rok@demo.srpp.lt")
    expired = token("officer.rok@demo.srpp.lt")
    rows = ctx.scalars(select(ApiToken).order_by(ApiToken.id.desc()).limit(2)).all()
    officer = rows[0].user
    api_services.revoke(officer, rows[1])
    rows[0].expires_on = dt.date.today() - dt.timedelta(days=1)
    ctx.commit()
    before = _plan_counts(conn)[:2]
    for headers in (revoked, expired):
        resp = client.post("/api/v1/plan-items", json=ITEM, headers=headers)
        assert resp.status_code == 401, resp.json
        assert "revoked or expired" in resp.json["error"]["message"]
        # refused on reads too: a token sent is always checked
        assert client.get("/api/v1/municipalities", headers=headers).status_code == 401
    assert _plan_counts(conn)[:2] == before


def test_token_of_an_inactive_user_is_refused(client, ctx, token):
    from srpp.auth.models import User

    headers = token("officer.rok@demo.srpp.lt")
    ctx.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt")).active = False
    ctx.commit()
    assert client.post("/api/v1/plan-items", json=ITEM, headers=headers).status_code == 401


def test_other_municipality_is_403_and_nothing_changes(client, ctx, conn, token):
    """A token of ROK's officer cannot add to, change or delete from BIR's plan."""
    from srpp.api.locking import item_version

    headers = token("officer.rok@demo.srpp.lt")
    bir_item = _published_item(ctx, "BIR")
    bir_title, bir_version = bir_item.title, item_version(bir_item)
    before = _plan_counts(conn)
    attempts = [
        client.post("/api/v1/plan-items", json={**ITEM, "municipality": "BIR"}, headers=headers),
        client.post("/api/v1/plan-items", json={**{k: v for k, v in ITEM.items() if k != "municipality"},
                                                "plan_id": bir_item.plan_version.plan_id}, headers=headers),
        client.post("/api/v1/plan-items", json={**{k: v for k, v in ITEM.items() if k != "municipality"},
                                                "version_id": bir_item.plan_version_id}, headers=headers),
        client.patch(f"/api/v1/plan-items/{bir_item.uid}", json={"version": bir_version, "title": "hacked"},
                     headers=headers),
        client.delete(f"/api/v1/plan-items/{bir_item.uid}", headers=headers),
    ]
    for resp in attempts:
        assert resp.status_code == 403, resp.json
        assert resp.json["error"]["code"] == "forbidden"
    # nothing changed: no item, no draft version, no audit event
    assert _plan_counts(conn) == before
    ctx.expire_all()
    assert _published_item(ctx, "BIR").title == bir_title


def test_finance_officer_may_not_edit_plans(client, conn, token):
    before = _plan_counts(conn)[:2]
    resp = client.post("/api/v1/plan-items", json=ITEM, headers=token("finance.rok@demo.srpp.lt"))
    assert resp.status_code == 403
    assert _plan_counts(conn)[:2] == before


# --- plan items --------------------------------------------------------------------------------------

def test_create_item_201_in_a_new_draft_and_audited(client, ctx, conn, token):
    from srpp.core.models import AuditEvent
    from srpp.plans.models import PlanItem, PlanState, PlanVersion

    headers = token("officer.rok@demo.srpp.lt")
    published = _published_item(ctx, "ROK").plan_version
    n_published = len(published.items)
    resp = client.post("/api/v1/plan-items", json=ITEM, headers=headers)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["title"] == ITEM["title"] and body["estimated_value"] == "45000.00"
    assert body["municipality"] == "ROK" and body["version_state"] == "draft"
    assert body["launch_month"] == "2027-03-01" and body["funding_measure"] == "MUNICIPAL"
    assert body["version"]
    ctx.expire_all()
    item = ctx.scalar(select(PlanItem).where(PlanItem.uid == body["uid"]))
    assert item.plan_version.state == PlanState.DRAFT and item.plan_version.plan_id == published.plan_id
    # the draft was started from the published version: its items plus the new one
    draft = ctx.get(PlanVersion, body["version_id"])
    assert len(draft.items) == n_published + 1
    assert len(ctx.get(PlanVersion, published.id).items) == n_published  # the published plan is untouched
    # audited, with the token's user as the actor
    officer_id = _user_id(ctx, "officer.rok@demo.srpp.lt")
    event = ctx.scalar(select(AuditEvent).where(AuditEvent.entity_type == "PlanItem",
                                                AuditEvent.entity_id == str(item.id)))
    assert event is not None and event.actor_id == officer_id and event.action.value == "create"
    # a second item goes into the same draft
    resp = client.post("/api/v1/plan-items", json={**ITEM, "title": "Antras"}, headers=headers)
    assert resp.status_code == 201 and resp.json["version_id"] == body["version_id"]


def test_create_by_plan_id_and_version_id(client, ctx, token):
    headers = token("officer.rok@demo.srpp.lt")
    published = _published_item(ctx, "ROK").plan_version
    fields = {k: v for k, v in ITEM.items() if k != "municipality"}
    by_plan = client.post("/api/v1/plan-items", json={**fields, "plan_id": published.plan_id}, headers=headers)
    assert by_plan.status_code == 201, by_plan.json
    draft_id = by_plan.json["version_id"]
    by_version = client.post("/api/v1/plan-items", json={**fields, "version_id": draft_id}, headers=headers)
    assert by_version.status_code == 201 and by_version.json["version_id"] == draft_id
    # a published version is not written to
    resp = client.post("/api/v1/plan-items", json={**fields, "version_id": published.id}, headers=headers)
    assert resp.status_code == 422 and resp.json["error"]["parameter"] == "version_id"
    # exactly one target
    resp = client.post("/api/v1/plan-items", json={**ITEM, "plan_id": published.plan_id}, headers=headers)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_body"


@pytest.mark.parametrize("change, parameter", [
    ({"duration_months": 121}, "duration_months"),
    ({"estimated_value": "0"}, "estimated_value"),
    ({"estimated_value": "12.345"}, "estimated_value"),
    ({"estimated_value": "1e300"}, "estimated_value"),
    ({"launch_month": "2031-01"}, "launch_month"),
    ({"category": "NO_SUCH"}, "category"),
    ({"main_cpv": "12345678-9"}, "main_cpv"),
    ({"funding_measure": "NOPE"}, "funding_measure"),
    ({"reservation": "res-pub-ser", "duration_months": 48}, "reservation"),
    ({"title": ""}, "title"),
    ({"procedure": "simplified", "estimated_value": "5000000.00"}, "procedure"),  # above the EU threshold
    ({"municipality": "NOPE"}, "municipality"),
])
def test_rule_violations_are_422_naming_the_field(client, conn, token, change, parameter):
    """The API's values go through the import's parsers and ``check_item``: the same rules, the field named."""
    headers = token("officer.rok@demo.srpp.lt")
    before = _plan_counts(conn)[:2]
    resp = client.post("/api/v1/plan-items", json={**ITEM, **change}, headers=headers)
    assert resp.status_code == 422, resp.json
    error = resp.json["error"]
    assert error["code"] == ("unknown_reference" if parameter == "municipality" else "rule_violation")
    assert parameter in [d["parameter"] for d in error["details"]], error
    assert _plan_counts(conn)[:2] == before  # not even the draft was started


def test_type_errors_are_400(client, token):
    headers = token("officer.rok@demo.srpp.lt")
    for change in ({"duration_months": "twelve"}, {"procedure": "auction"}, {"is_bundle": "maybe"},
                   {"unknown_field": 1}, {"title": "x\x00y"}):
        resp = client.post("/api/v1/plan-items", json={**ITEM, **change}, headers=headers)
        assert resp.status_code == 400, (change, resp.json)
        assert resp.json["error"]["code"] == "invalid_body"
    resp = client.post("/api/v1/plan-items", data="not json", headers=headers)
    assert resp.status_code == 400


def test_patch_with_versions_and_conflict_409(client, ctx, token):
    from srpp.plans.models import PlanItem

    headers = token("officer.rok@demo.srpp.lt")
    created = client.post("/api/v1/plan-items", json=ITEM, headers=headers).json
    first = client.patch(f"/api/v1/plan-items/{created['uid']}",
                         json={"version": created["version"], "estimated_value": "47000", "intended_lots": 2},
                         headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["estimated_value"] == "47000.00" and first.json["intended_lots"] == 2
    assert first.json["title"] == ITEM["title"]  # fields not sent keep their values
    assert first.json["version"] != created["version"]
    # a second writer still holding the first version is refused, and nothing is overwritten
    stale = client.patch(f"/api/v1/plan-items/{created['uid']}",
                         json={"version": created["version"], "title": "Stale change"}, headers=headers)
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict" and stale.json["error"]["parameter"] == "version"
    ctx.expire_all()
    item = ctx.scalar(select(PlanItem).where(PlanItem.uid == created["uid"]))
    assert item.title == ITEM["title"] and item.estimated_value == Decimal("47000.00")
    # with the current version it goes through
    ok = client.patch(f"/api/v1/plan-items/{created['uid']}",
                      json={"version": first.json["version"], "title": "Fresh change"}, headers=headers)
    assert ok.status_code == 200 and ok.json["title"] == "Fresh change"
    # the version is required
    assert client.patch(f"/api/v1/plan-items/{created['uid']}", json={"title": "x"},
                        headers=headers).status_code == 400
    # a rule violation names the field and changes nothing
    bad = client.patch(f"/api/v1/plan-items/{created['uid']}",
                       json={"version": ok.json["version"], "duration_months": 0}, headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["parameter"] == "duration_months"
    assert client.patch("/api/v1/plan-items/nosuchuid", json={"version": "x"}, headers=headers).status_code == 404


def test_patch_published_item_starts_a_draft(client, ctx, token):
    """The version read from the published plan is valid for the first change, which is made in a
    new draft version; the published item stays as it was."""
    from srpp.api.locking import item_version
    from srpp.plans.models import PlanItem, PlanState

    headers = token("officer.rok@demo.srpp.lt")
    published = _published_item(ctx, "ROK")
    uid, value = published.uid, published.estimated_value
    resp = client.patch(f"/api/v1/plan-items/{uid}", json={"version": item_version(published),
                                                           "estimated_value": str(value + 1000)}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["version_state"] == "draft" and resp.json["uid"] == uid
    ctx.expire_all()
    rows = {i.plan_version.state: i for i in ctx.scalars(select(PlanItem).where(PlanItem.uid == uid))}
    assert rows[PlanState.PUBLISHED].estimated_value == value
    assert rows[PlanState.DRAFT].estimated_value == value + 1000


def test_delete_item(client, ctx, token):
    from srpp.plans.models import PlanItem

    headers = token("officer.rok@demo.srpp.lt")
    created = client.post("/api/v1/plan-items", json=ITEM, headers=headers).json
    changed = client.patch(f"/api/v1/plan-items/{created['uid']}", json={"version": created["version"],
                                                                         "unit": "vieta"}, headers=headers).json
    stale = client.delete(f"/api/v1/plan-items/{created['uid']}?version={created['version']}", headers=headers)
    assert stale.status_code == 409
    resp = client.delete(f"/api/v1/plan-items/{created['uid']}?version={changed['version']}", headers=headers)
    assert resp.status_code == 200 and resp.json == {"uid": created["uid"], "deleted": True,
                                                     "version_id": created["version_id"]}
    assert ctx.scalar(select(func.count()).select_from(PlanItem).where(PlanItem.uid == created["uid"])) == 0
    assert client.delete(f"/api/v1/plan-items/{created['uid']}", headers=headers).status_code == 404


# --- invoices ------------------------------------------------------------------------------------------

@pytest.fixture()
def rok_contract(ctx):
    from srpp.contracts.models import Contract
    from srpp.orgs.services import municipality_by_code

    rok = municipality_by_code("ROK")
    contract = ctx.scalars(select(Contract).where(Contract.municipality_id == rok.id).order_by(Contract.id)).first()
    assert contract is not None and contract.country == "LT"
    return {"supplier_code": contract.supplier.company_code, "contract_id": contract.id}


def _invoice(contract: dict, number: str, **extra) -> dict:
    received = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    return {**contract, "invoice_number": number, "amount": "1210.00", "received_on": received,
            "e_invoice_ref": f"EINV-{number}", **extra}


def test_invoice_import_records_and_is_idempotent(client, ctx, conn, token, rok_contract):
    from srpp.core.models import AuditEvent
    from srpp.payments.models import Invoice

    headers = token("finance.rok@demo.srpp.lt")
    paid = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    body = {"invoices": [_invoice(rok_contract, "API-INV-1"),  # the municipality is the officer's only one
                         _invoice(rok_contract, "API-INV-2", paid_on=paid, paid_amount="1210.00",
                                  payment_reference="MP-API-2")]}
    before = count_rows(conn, "invoices")
    resp = client.post("/api/v1/invoices/import", json=body, headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"municipality": "ROK", "rows": 2, "invoices_added": 2, "invoices_matched": 0,
                         "acceptances": 0, "payments_added": 1, "payments_existing": 0}
    assert count_rows(conn, "invoices") == before + 2
    inv = ctx.scalar(select(Invoice).where(Invoice.number == "API-INV-2"))
    assert inv.source == "import" and inv.paid_amount == Decimal("1210.00")
    event = ctx.scalar(select(AuditEvent).where(AuditEvent.entity_type == "Invoice",
                                                AuditEvent.entity_id == str(inv.id)))
    assert event is not None and event.actor_id == _user_id(ctx, "finance.rok@demo.srpp.lt")
    again = client.post("/api/v1/invoices/import", json={**body, "municipality": "rok"}, headers=headers)
    assert again.status_code == 200
    assert again.json["invoices_added"] == 0 and again.json["invoices_matched"] == 2
    assert again.json["payments_existing"] == 1 and again.json["payments_added"] == 0
    assert count_rows(conn, "invoices") == before + 2


def test_invoice_import_is_all_or_nothing(client, conn, token, rok_contract):
    headers = token("finance.rok@demo.srpp.lt")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    body = {"municipality": "ROK", "invoices": [
        _invoice(rok_contract, "API-OK-1"),
        _invoice(rok_contract, "API-BAD-2", amount="10.005"),
        _invoice({**rok_contract, "supplier_code": "000000000"}, "API-BAD-3"),
        _invoice(rok_contract, "API-BAD-4", received_on=future, e_invoice_ref=None),
    ]}
    before = (count_rows(conn, "invoices"), count_rows(conn, "payments"))
    resp = client.post("/api/v1/invoices/import", json=body, headers=headers)
    assert resp.status_code == 422, resp.json
    error = resp.json["error"]
    assert error["code"] == "import_refused"
    found = {(d["row"], d["parameter"]) for d in error["details"]}
    assert {(2, "invoices.1.amount"), (3, "invoices.2.supplier_code"), (4, "invoices.3.received_on"),
            (4, "invoices.3.e_invoice_ref")} <= found, found
    assert not any(row == 1 for row, _p in found)
    assert error["parameter"] == "invoices.1.amount"
    assert (count_rows(conn, "invoices"), count_rows(conn, "payments")) == before  # nothing, not even row 1


@pytest.mark.parametrize("email, municipality", [
    ("officer.rok@demo.srpp.lt", None),  # a procurement officer does not record invoices
    ("officer.rok@demo.srpp.lt", "ROK"),
    ("finance.bir@demo.srpp.lt", "ROK"),  # another municipality's finance officer
    ("finance.rok@demo.srpp.lt", "BIR"),
    ("seo@demo.srpp.lt", None),
])
def test_invoice_import_only_for_the_municipality_finance_officers(client, conn, token, rok_contract,
                                                                   email, municipality):
    body = {"invoices": [_invoice(rok_contract, "API-FORBIDDEN")]}
    if municipality:
        body["municipality"] = municipality
    before = count_rows(conn, "invoices")
    resp = client.post("/api/v1/invoices/import", json=body, headers=token(email))
    assert resp.status_code == 403, resp.json
    assert count_rows(conn, "invoices") == before


def test_invoice_import_validation(client, token, rok_contract):
    headers = token("finance.rok@demo.srpp.lt")
    assert client.post("/api/v1/invoices/import", json={"invoices": []}, headers=headers).status_code == 400
    resp = client.post("/api/v1/invoices/import", json={"invoices": [{**_invoice(rok_contract, "X"),
                                                                       "received_on": "31.03.2026"}]},
                       headers=headers)
    assert resp.status_code == 400 and resp.json["error"]["parameter"] == "invoices.0.received_on"
    resp = client.post("/api/v1/invoices/import", json={"municipality": "NOPE", "invoices": [
        _invoice(rok_contract, "X")]}, headers=headers)
    assert resp.status_code == 422 and resp.json["error"]["parameter"] == "municipality"
