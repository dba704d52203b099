"""The JSON API's read operations (srpp/api/endpoints*.py) on the demo region: lists with their filters,
single resources, 404 and 400 answers, page-size capping, a constant number of SQL statements per list
page, and who sees what, with a session login and with API tokens (srpp.api.services.issue)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.postgres

API = "/api/v1"


# --- helpers ---------------------------------------------------------------------------------------------

def _user(ctx, email: str):
    from srpp.auth.models import User

    return ctx.scalar(select(User).where(User.email == email))


@pytest.fixture()
def token(ctx):
    """``token(email)``: the plaintext of a new read-only API token of that demo user (committed)."""
    from srpp.api import services as api

    def _issue(email: str) -> str:
        _row, plaintext = api.issue(_user(ctx, email), "tests")
        ctx.commit()
        return plaintext

    return _issue


def _get(client, url: str, token: str | None = None, status: int = 200) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = client.get(API + url, headers=headers)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.is_json
    return resp.json


def _bad(client, url: str, parameter: str, token: str | None = None) -> None:
    body = _get(client, url, token, status=400)
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter, body


def _all(client, url: str, token: str | None = None) -> list[dict]:
    """Every item of a list (all pages)."""
    sep = "&" if "?" in url else "?"
    out, page = [], 1
    while True:
        body = _get(client, f"{url}{sep}page={page}&page_size=200", token)
        out += body["data"]
        if page >= body["meta"]["pages"]:
            assert len(out) == body["meta"]["total"]
            return out
        page += 1


def _ids(rows: list[dict]) -> set:
    return {r["id"] for r in rows}


def _rok(ctx):
    from srpp.orgs.services import municipality_by_code

    return municipality_by_code("ROK")


# --- plans ------------------------------------------------------------------------------------------------

def test_plans_list_filters_and_detail(client, ctx):
    plans = _all(client, "/plans")
    assert plans and all(p["published_version_id"] for p in plans)
    assert all(v["state"] != "draft" for p in plans for v in p["versions"])
    rok = _all(client, "/plans?municipality=rok")
    assert rok and {p["municipality"] for p in rok} == {"ROK"} and len(rok) < len(plans)
    in_2025 = _all(client, "/plans?year=2025")
    assert in_2025 and all(p["period_start"] <= "2025-12-31" and p["period_end"] >= "2025-01-01" for p in in_2025)
    assert len(in_2025) < len(plans)

    from srpp.plans.services import current_published

    version = current_published(_rok(ctx))
    plan = _get(client, f"/plans/{version.plan_id}")
    assert plan["municipality"] == "ROK" and plan["published_version_id"] == version.id
    assert next(v for v in plan["versions"] if v["id"] == version.id)["item_count"] == len(version.items)
    detail = _get(client, f"/plan-versions/{version.id}")
    assert detail["state"] == "published" and detail["municipality"] == "ROK" and detail["plan_id"] == version.plan_id

    assert _get(client, "/plans/999999999", status=404)["error"]["code"] == "not_found"
    _get(client, "/plan-versions/999999999", status=404)
    _bad(client, "/plans?municipality=XYZ", "municipality")
    _bad(client, "/plans?year=abc", "year")
    _bad(client, "/plans?page=0", "page")


def test_draft_versions_only_for_the_municipality_and_the_region(client, ctx, token, as_user):
    from srpp.plans import services

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    published = services.current_published(_rok(ctx))
    draft = services.start_new_version(officer, published.plan)
    lonely = services.create_plan(officer, _rok(ctx), dt.date(2031, 1, 1), "API draft-only plan")  # only a draft
    ctx.commit()
    n_items = len(draft.items)
    assert n_items

    # anonymous: the drafts do not exist
    plan = _get(client, f"/plans/{published.plan_id}")
    assert plan["draft_version_id"] is None and draft.id not in _ids(plan["versions"])
    _get(client, f"/plan-versions/{draft.id}", status=404)
    _get(client, f"/plans/{lonely.plan_id}", status=404)
    assert lonely.plan_id not in _ids(_all(client, "/plans?municipality=ROK"))
    _bad(client, f"/plan-items?version={draft.id}", "version")

    # another municipality's officer and an SEO member: 403 on the draft, with a token or a session
    bir = token("officer.bir@demo.srpp.lt")
    seo = token("seo@demo.srpp.lt")
    for t in (bir, seo):
        _get(client, f"/plan-versions/{draft.id}", t, status=403)
        assert _get(client, f"/plans/{published.plan_id}", t)["draft_version_id"] is None
        _get(client, f"/plans/{lonely.plan_id}", t, status=404)
    as_user("officer.bir@demo.srpp.lt")
    _get(client, f"/plan-versions/{draft.id}", status=403)
    client.post("/logout")

    # ROK's officer (token) and the council (session) see them
    rok = token("officer.rok@demo.srpp.lt")
    assert _get(client, f"/plans/{published.plan_id}", rok)["draft_version_id"] == draft.id
    assert _get(client, f"/plan-versions/{draft.id}", rok)["state"] == "draft"
    assert lonely.plan_id in _ids(_all(client, "/plans?municipality=ROK", rok))
    items = _all(client, f"/plan-items?version={draft.id}", rok)
    assert len(items) == n_items and {i["version_state"] for i in items} == {"draft"}
    as_user("council@demo.srpp.lt")
    assert _get(client, f"/plan-versions/{draft.id}")["id"] == draft.id
    assert _get(client, f"/plans/{lonely.plan_id}")["versions"][0]["state"] == "draft"


def test_plan_items_list_filters_and_detail(client, ctx):
    items = _all(client, "/plan-items")
    assert items and {i["version_state"] for i in items} == {"published"}
    rok = _all(client, "/plan-items?municipality=ROK")
    assert rok and {i["municipality"] for i in rok} == {"ROK"}

    cpv = _all(client, "/plan-items?cpv=8531")
    assert cpv and all(any(c.startswith("8531") for c in i["cpv_codes"]) for i in cpv) and len(cpv) < len(items)
    reserved = _all(client, "/plan-items?reserved=true")
    open_ = _all(client, "/plan-items?reserved=false")
    assert reserved and open_ and all(i["reserved"] and i["reservation"] != "none" for i in reserved)
    assert all(i["reservation"] == "none" for i in open_) and len(reserved) + len(open_) == len(items)
    basis = _all(client, "/plan-items?basis=res-pub-ser")
    assert basis and {i["reservation"] for i in basis} == {"res-pub-ser"}

    window = _all(client, "/plan-items?launch_from=2027-01&launch_to=2027-03")
    assert window and all("2027-01-01" <= i["launch_month"] <= "2027-03-01" for i in window)
    planned = _all(client, "/plan-items?state=planned")
    assert planned and {i["state"] for i in planned} == {"planned"}
    word = items[0]["title"].split()[0]
    found = _all(client, f"/plan-items?q={word.lower()}")
    assert items[0]["uid"] in {i["uid"] for i in found} and all(word.lower() in i["title"].lower() for i in found)
    category = items[0]["category"]
    assert {i["category"] for i in _all(client, f"/plan-items?category={category}")} == {category}

    one = _get(client, f"/plan-items/{items[0]['uid']}")
    assert one == items[0] and isinstance(one["estimated_value"], str) and Decimal(one["estimated_value"]) > 0
    _get(client, "/plan-items/0123456789abcdef0123456789abcdef", status=404)
    for url, parameter in [("/plan-items?cpv=abc", "cpv"), ("/plan-items?launch_from=2027-13", "launch_from"),
                           ("/plan-items?launch_to=March", "launch_to"), ("/plan-items?reserved=maybe", "reserved"),
                           ("/plan-items?state=bogus", "state"), ("/plan-items?category=NOPE", "category"),
                           ("/plan-items?basis=res-xx", "basis"), ("/plan-items?version=abc", "version"),
                           ("/plan-items?municipality=rok;drop", "municipality")]:
        _bad(client, url, parameter)


def test_page_size_is_capped(client):
    body = _get(client, "/plan-items?page_size=500")
    meta = body["meta"]
    assert meta["page_size"] == 200 and meta["page_size_capped"] is True and meta["max_page_size"] == 200
    assert meta["warnings"] and len(body["data"]) == min(200, meta["total"])
    small = _get(client, "/plan-items?page_size=3&page=2")
    assert len(small["data"]) == 3 and small["meta"]["page_size_capped"] is False
    assert small["meta"]["pages"] == -(-small["meta"]["total"] // 3)
    _bad(client, "/plan-items?page_size=0", "page_size")
    _bad(client, "/tenders?page_size=x", "page_size")
    beyond = _get(client, "/tenders?page=1000")
    assert beyond["data"] == [] and beyond["meta"]["total"] > 0


# --- tenders and lots ----------------------------------------------------------------------------------------

@pytest.fixture()
def rok_draft(ctx):
    """A ROK draft tender with lots (the demo's, or made in the test's transaction)."""
    from srpp.plans.services import current_published
    from srpp.tenders.models import Tender
    from tests.test_access import _tender_ids

    ids = _tender_ids(_user(ctx, "officer.rok@demo.srpp.lt"), current_published(_rok(ctx)))
    return ctx.get(Tender, ids["rok_tender"])


def test_tenders_list_filters_and_detail(client, ctx, rok_draft):
    tenders = _all(client, "/tenders")
    assert tenders and {t["state"] for t in tenders} <= {"published", "evaluation", "awarded", "cancelled"}
    assert all(t["published_at"] for t in tenders) and rok_draft.id not in _ids(tenders)
    rok = _all(client, "/tenders?municipality=ROK")
    assert rok and all(t["municipality"] == "ROK" or "ROK" in t["mandates"] for t in rok)
    awarded = _all(client, "/tenders?state=awarded")
    assert awarded and {t["state"] for t in awarded} == {"awarded"}
    reserved = _all(client, "/tenders?reserved=true")
    unreserved = _all(client, "/tenders?reserved=false")
    assert reserved and all(any(lot["reservation"] != "none" for lot in t["lots"]) for t in reserved)
    assert all(lot["reservation"] == "none" for t in unreserved for lot in t["lots"])
    assert len(reserved) + len(unreserved) == len(tenders)

    one = _get(client, f"/tenders/{awarded[0]['id']}")
    assert one == awarded[0] and Decimal(one["estimated_value"]) == sum(Decimal(x["estimated_value"])
                                                                          for x in one["lots"])
    _get(client, "/tenders/999999999", status=404)
    _bad(client, "/tenders?state=bogus", "state")
    _bad(client, "/tenders?reserved=2", "reserved")
    _bad(client, "/tenders?municipality=NOWHERE", "municipality")


def test_draft_tenders_and_their_lots_only_for_staff(client, ctx, token, as_user, rok_draft):
    lot_id = rok_draft.lots[0].id
    _get(client, f"/tenders/{rok_draft.id}", status=404)
    _get(client, f"/lots/{lot_id}", status=404)
    assert lot_id not in _ids(_all(client, f"/lots?tender={rok_draft.id}"))
    for t in (token("seo@demo.srpp.lt"), token("officer.bir@demo.srpp.lt")):
        _get(client, f"/tenders/{rok_draft.id}", t, status=403)
        _get(client, f"/lots/{lot_id}", t, status=403)
        assert rok_draft.id not in _ids(_all(client, "/tenders?state=draft", t))
    rok = token("officer.rok@demo.srpp.lt")
    assert _get(client, f"/tenders/{rok_draft.id}", rok)["state"] == "draft"
    assert rok_draft.id in _ids(_all(client, "/tenders?state=draft", rok))
    assert _get(client, f"/lots/{lot_id}", rok)["tender_id"] == rok_draft.id
    as_user("seo@demo.srpp.lt")
    _get(client, f"/tenders/{rok_draft.id}", status=403)
    as_user("council@demo.srpp.lt")
    assert {x["id"] for x in _all(client, f"/lots?tender={rok_draft.id}")} == {lot.id for lot in rok_draft.lots}


def test_lots_list_filters_awards_and_detail(client, ctx, as_user):
    lots = _all(client, "/lots")
    assert lots and all(x["award"] is None for x in lots)  # anonymous: no award results
    awarded = _all(client, "/lots?state=awarded")
    assert awarded and {x["state"] for x in awarded} == {"awarded"}
    ws = _all(client, "/lots?basis=res-ws")
    assert ws and {x["reservation"] for x in ws} == {"res-ws"} and all(x["notice_text_en"] for x in ws)
    open_ = _all(client, "/lots?reserved=false")
    assert open_ and {x["reservation"] for x in open_} == {"none"}
    tender_id = awarded[0]["tender_id"]
    assert {x["tender_id"] for x in _all(client, f"/lots?tender={tender_id}")} == {tender_id}
    cpv = _all(client, "/lots?cpv=853")
    assert cpv and all(any(c.startswith("853") for c in x["cpv_codes"]) for x in cpv)
    assert {x["municipality"] for x in _all(client, "/lots?municipality=PAN-D")} == {"PAN-D"}

    one = _get(client, f"/lots/{awarded[0]['id']}")
    assert one["award"] is None and one["criteria"] and sum(Decimal(c["weight"]) for c in one["criteria"]) == 100
    as_user("seo@demo.srpp.lt")
    award = _get(client, f"/lots/{awarded[0]['id']}")["award"]
    assert award["winner"]["legal_name"] and Decimal(award["award_value"]) > 0
    _get(client, "/lots/999999999", status=404)
    for url, parameter in [("/lots?basis=all", "basis"), ("/lots?state=won", "state"), ("/lots?tender=x", "tender"),
                           ("/lots?cpv=85-31", "cpv"), ("/lots?category=NOPE", "category")]:
        _bad(client, url, parameter)


# --- frameworks and call-offs -----------------------------------------------------------------------------

def test_frameworks_public_facts_and_planned_ones(client, ctx, token, as_user):
    from srpp.frameworks.models import FrameworkAgreement, FrameworkState

    public = _all(client, "/frameworks")
    assert public and all(f["estimated_value"] is None and f["committed_value"] is None for f in public)
    assert all(p["state"] is None and p["caps"] is None for f in public for p in f["participants"])
    fa = ctx.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == "FA-MOB-DRT-2026"))
    fa.state = FrameworkState.PLANNED  # made a planned framework, in the test's transaction
    ctx.commit()
    assert fa.id not in _ids(_all(client, "/frameworks"))
    _get(client, f"/frameworks/{fa.id}", status=404)
    _get(client, f"/frameworks/{fa.id}", token("seo@demo.srpp.lt"), status=403)
    officer = token("officer.rok@demo.srpp.lt")
    internal = _get(client, f"/frameworks/{fa.id}", officer)
    assert internal["state"] == "planned" and internal["estimated_value"] and internal["committed_value"] is not None
    assert all(p["caps"] is not None for p in internal["participants"])
    rok = _all(client, "/frameworks?municipality=ROK", officer)
    assert fa.id in _ids(rok)
    assert {f["state"] for f in _all(client, "/frameworks?state=active")} == {"active"}
    _get(client, "/frameworks/999999999", status=404)
    _bad(client, "/frameworks?state=signed", "state")
    _bad(client, "/frameworks?open=perhaps", "open")

    as_user("admin@demo.srpp.lt")
    from srpp.frameworks.models import CallOff
    from srpp.frameworks.services import committed_total

    other = next(f for f in _all(client, "/frameworks") if f["id"] != fa.id and Decimal(f["committed_value"]) > 0)
    other_fa = ctx.get(FrameworkAgreement, other["id"])
    assert Decimal(other["committed_value"]) == committed_total(other_fa)
    assert ctx.scalar(select(CallOff.id).where(CallOff.framework_id == other_fa.id).limit(1))


def test_call_offs_need_framework_view(client, ctx, token, as_user):
    body = _get(client, "/call-offs", status=401)
    assert body["error"]["code"] == "unauthorized"
    assert client.get(API + "/call-offs").headers["WWW-Authenticate"].startswith("Bearer")
    seo = token("seo@demo.srpp.lt")
    _get(client, "/call-offs", seo, status=403)
    as_user("seo@demo.srpp.lt")
    _get(client, "/call-offs", status=403)
    _get(client, "/call-offs/1", status=403)
    client.post("/logout")

    officer = token("officer.rok@demo.srpp.lt")
    calls = _all(client, "/call-offs", officer)
    assert calls and any(c["contract_id"] for c in calls)
    framework_id = calls[0]["framework_id"]
    assert {c["framework_id"] for c in _all(client, f"/call-offs?framework={framework_id}", officer)} == {framework_id}
    pan = _all(client, "/call-offs?municipality=PAN-C", officer)
    assert pan and {c["municipality"] for c in pan} == {"PAN-C"}
    one = _get(client, f"/call-offs/{calls[0]['id']}", officer)
    assert one == calls[0]
    _get(client, "/call-offs/999999999", officer, status=404)
    _bad(client, "/call-offs?framework=x", "framework", officer)
    _bad(client, "/call-offs?awarded_from=2026-02-30", "awarded_from", officer)


# --- contracts, milestones, invoices ------------------------------------------------------------------------

def _demo_contracts(ctx):
    from srpp.orgs.models import Supplier
    from tests.test_access import _contract_ids

    seo = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    other = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000002"))
    return seo, _contract_ids(_rok(ctx), seo, other)


def test_contracts_for_who_may_see_them(client, ctx, token, as_user):
    seo_supplier, ids = _demo_contracts(ctx)
    _get(client, "/contracts", status=401)
    _get(client, f"/contracts/{ids['rok_contract']}", status=401)

    seo = token("seo@demo.srpp.lt")
    mine = _all(client, "/contracts", seo)
    assert mine and {c["supplier"]["id"] for c in mine} == {seo_supplier.id}
    assert _get(client, f"/contracts/{ids['rok_contract']}", seo)["supplier"]["id"] == seo_supplier.id
    _get(client, f"/contracts/{ids['rok_other_contract']}", seo, status=403)

    officer = token("officer.rok@demo.srpp.lt")
    rok = _all(client, "/contracts", officer)
    assert rok and {c["municipality"] for c in rok} == {"ROK"}
    assert _all(client, "/contracts?municipality=BIR", officer) == []  # filtered, not refused
    bir = token("finance.bir@demo.srpp.lt")
    _get(client, f"/contracts/{ids['rok_contract']}", bir, status=403)

    as_user("council@demo.srpp.lt")
    everything = _all(client, "/contracts")
    assert len({c["municipality"] for c in everything}) > 1 and len(everything) > len(rok)
    active = _all(client, f"/contracts?status=active&supplier={seo_supplier.id}")
    assert active and all(c["state"] == "active" and c["supplier"]["id"] == seo_supplier.id for c in active)
    _get(client, "/contracts/999999999", status=404)
    _bad(client, "/contracts?status=open", "status")
    _bad(client, "/contracts?supplier=me", "supplier")


def test_milestones_follow_their_contract(client, ctx, token):
    from srpp.contracts.models import Contract, PaymentMilestone

    _seo_supplier, ids = _demo_contracts(ctx)
    contract = next(c for c in ctx.scalars(select(Contract).where(Contract.municipality_id == _rok(ctx).id))
                    if c.milestones and c.id != ids["rok_contract"] and c.supplier_id != _seo_supplier.id)
    _get(client, f"/contracts/{contract.id}/milestones", status=401)
    _get(client, "/milestones", status=401)
    finance = token("finance.rok@demo.srpp.lt")
    rows = _all(client, f"/contracts/{contract.id}/milestones", finance)
    assert [m["sequence"] for m in rows] == sorted(m.sequence for m in contract.milestones)
    assert sum(Decimal(m["amount"]) for m in rows) == sum(m.amount for m in contract.milestones)
    assert _all(client, f"/milestones?contract={contract.id}", finance) == sorted(
        rows, key=lambda m: (m["planned_date"] or "9999", m["sequence"]))
    met = _all(client, "/milestones?state=met&municipality=ROK", finance)
    assert met and {m["state"] for m in met} == {"met"}
    window = _all(client, "/milestones?planned_from=2026-01-01&planned_to=2026-06-30", finance)
    assert window and all("2026-01-01" <= m["planned_date"] <= "2026-06-30" for m in window)

    seo = token("seo@demo.srpp.lt")
    _get(client, f"/contracts/{contract.id}/milestones", seo, status=403)
    assert _all(client, f"/milestones?contract={contract.id}", seo) == []
    visible = {m["contract_id"] for m in _all(client, "/milestones", seo)}
    assert visible and visible <= {c.id for c in ctx.scalars(select(Contract).where(
        Contract.supplier_id == _seo_supplier.id))}
    _get(client, "/contracts/999999999/milestones", finance, status=404)
    _bad(client, "/milestones?state=paid", "state", finance)
    assert ctx.scalar(select(PaymentMilestone.id).limit(1))


def test_invoices_only_for_authorised_callers(client, ctx, token, as_user):
    from srpp.payments.models import Invoice

    seo_supplier, ids = _demo_contracts(ctx)
    body = _get(client, "/invoices", status=401)
    assert body["error"]["code"] == "unauthorized"
    _get(client, f"/invoices/{ids['rok_invoice']}", status=401)
    _get(client, "/invoices", "srpp_not-a-real-token", status=401)

    finance = token("finance.rok@demo.srpp.lt")
    rok = _all(client, "/invoices", finance)
    assert rok and {i["municipality"] for i in rok} == {"ROK"}
    assert _all(client, "/invoices?municipality=BIR", finance) == []
    assert _get(client, f"/invoices/{ids['rok_invoice']}", finance)["contract_id"] == ids["rok_contract"]
    bir_invoice = ctx.scalar(select(Invoice).where(Invoice.municipality_id != _rok(ctx).id).limit(1))
    _get(client, f"/invoices/{bir_invoice.id}", finance, status=403)

    other_finance = token("finance.bir@demo.srpp.lt")
    _get(client, f"/invoices/{ids['rok_invoice']}", other_finance, status=403)
    as_user("finance.bir@demo.srpp.lt")
    _get(client, f"/invoices/{ids['rok_invoice']}", status=403)
    assert ids["rok_invoice"] not in _ids(_all(client, "/invoices"))
    client.post("/logout")

    seo = token("seo@demo.srpp.lt")
    own = _all(client, "/invoices", seo)
    assert own and {i["supplier"]["id"] for i in own} == {seo_supplier.id}
    assert _get(client, f"/invoices/{ids['rok_invoice']}", seo)["id"] == ids["rok_invoice"]

    as_user("admin@demo.srpp.lt")
    late = _all(client, "/invoices?late=true")
    assert late and all(i["days_late"] > 0 for i in late)
    on_time = _all(client, "/invoices?late=false")
    assert on_time and all(i["days_late"] == 0 for i in on_time)
    paid = _all(client, f"/invoices?status=paid&contract={ids['rok_contract']}")
    assert all(i["state"] == "paid" and i["contract_id"] == ids["rok_contract"] for i in paid)
    one = _get(client, f"/invoices/{ids['rok_invoice']}")
    assert Decimal(one["outstanding"]) == Decimal(one["amount"]) - Decimal(one["paid_amount"])
    assert Decimal(one["paid_amount"]) == sum((Decimal(p["amount"]) for p in one["payments"]), Decimal(0))
    _get(client, "/invoices/999999999", status=404)
    _bad(client, "/invoices?late=maybe", "late")
    _bad(client, "/invoices?status=overdue", "status")
    _bad(client, "/invoices?received_from=yesterday", "received_from")


# --- indicators -----------------------------------------------------------------------------------------

def test_indicators_public_and_internal(client, ctx, token, as_user):
    public = _all(client, "/indicators")
    assert public and all(i["public"] and i["amber"] is None and i["red"] is None for i in public)
    codes = {i["code"] for i in public}
    assert "R-BID-ERROR-RATE" not in codes
    _get(client, "/indicators/R-BID-ERROR-RATE", status=404)
    _get(client, "/indicators/R-BID-ERROR-RATE", token("seo@demo.srpp.lt"), status=403)
    assert {i["group"] for i in _all(client, "/indicators?group=finance")} == {"finance"}

    f1 = _get(client, "/indicators/F1")
    assert f1["values"] and all(v["numerator"] is None and v["computed_at"] is None for v in f1["values"])
    periods = {v["period"] for v in f1["values"]}
    assert all(any(v["scope"] == "region" and v["period"] == p for v in f1["values"]) for p in periods)
    assert {v["scope"] for v in f1["values"]} > {"region"}  # the municipalities' values too (public_values)
    assert all(v["period_start"] <= dt.date.today().isoformat() for v in f1["values"])
    one = _get(client, f"/indicators/F1?period={sorted(periods)[-1]}&scope=ROK")
    assert [(v["scope"], v["period"]) for v in one["values"]] == [("ROK", sorted(periods)[-1])]

    officer = token("officer.rok@demo.srpp.lt")
    assert "R-BID-ERROR-RATE" in {i["code"] for i in _all(client, "/indicators", officer)}
    internal = _get(client, "/indicators/F1", officer)
    assert internal["amber"] is not None and any(v["computed_at"] for v in internal["values"])
    as_user("council@demo.srpp.lt")
    assert _get(client, "/indicators/R-BID-ERROR-RATE")["public"] is False

    _get(client, "/indicators/NOPE", status=404)
    _bad(client, "/indicators/F1?period=2026H3", "period")
    _bad(client, "/indicators/F1?scope=XYZ", "scope")
    _bad(client, "/indicators?group=money", "group")


# --- personal data, the OpenAPI document, bounded SQL ---------------------------------------------------------

def test_public_responses_carry_no_personal_data(client):
    for url in ("/plans", "/plan-items", "/tenders", "/lots", "/frameworks", "/indicators"):
        text = client.get(f"{API}{url}?page_size=200").get_data(as_text=True)
        assert "@" not in text and "contact_" not in text and "demo12345" not in text, url


def test_openapi_lists_the_read_operations(client):
    doc = client.get(f"{API}/openapi.json").json
    for path in ("/plans", "/plans/{plan_id}", "/plan-versions/{version_id}", "/plan-items", "/plan-items/{uid}",
                 "/tenders", "/tenders/{tender_id}", "/lots", "/lots/{lot_id}", "/frameworks",
                 "/frameworks/{framework_id}", "/call-offs", "/call-offs/{call_off_id}", "/contracts",
                 "/contracts/{contract_id}", "/contracts/{contract_id}/milestones", "/milestones", "/invoices",
                 "/invoices/{invoice_id}", "/indicators", "/indicators/{code}"):
        get = doc["paths"][API + path]["get"]
        assert "200" in get["responses"], path
        if "{" in path:
            assert "404" in get["responses"], path
    invoices = doc["paths"][API + "/invoices"]["get"]
    assert {"400", "401", "403"} <= set(invoices["responses"])
    names = {p["name"] for p in invoices["parameters"]}
    assert {"municipality", "contract", "status", "late", "page", "page_size"} <= names


LISTS = ["/plans", "/plan-items", "/tenders", "/lots", "/frameworks", "/call-offs", "/contracts", "/milestones",
         "/invoices", "/indicators", "/municipalities"]


def _statements(app, client, url: str) -> tuple[int, int]:
    from tests.test_public import _count_statements

    statements, body = _count_statements(app, client, API + url)
    return len(statements), len(json.loads(body)["data"])


@pytest.mark.parametrize("url", LISTS)
def test_a_list_page_runs_a_constant_number_of_statements(app, client, as_user, url):
    """1 row or 60: the same statements (no query per row), as the region's admin who sees everything."""
    as_user("admin@demo.srpp.lt")
    client.get(API + url)  # warm-up: lookups cached per process do not count
    few, n_few = _statements(app, client, url + "?page_size=1")
    many, n_many = _statements(app, client, url + "?page_size=60")
    assert n_few == 1 and n_many > 1, (url, n_many)
    assert many == few, f"{url}: {few} statements for 1 row, {many} for {n_many}"
    assert few <= 12, (url, few)


def test_responses_match_the_openapi_document(client, as_user):
    """Each list page and a few single resources validate against the schema the document declares."""
    from jsonschema import Draft202012Validator

    doc = client.get(f"{API}/openapi.json").json
    as_user("admin@demo.srpp.lt")
    urls = [*LISTS, "/plans/{}", "/lots/{}", "/frameworks/{}", "/invoices/{}", "/contracts/{}"]
    for url in urls:
        if "{}" in url:
            first = _get(client, url[:-3] + "?page_size=1")["data"][0]
            url, path = url.format(first["id"]), url.replace("{}", "{" + _path_param(doc, url) + "}")
        else:
            path = url
        schema = doc["paths"][API + path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        body = _get(client, url + ("" if "{" in path else "?page_size=5"))
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, (url, errors[:5])


def _path_param(doc, url: str) -> str:
    """The name of the single path parameter of ``/things/{}`` in the document."""
    prefix = API + url[:-2]
    return next(p[len(prefix) + 1:-1] for p in doc["paths"] if p.startswith(prefix + "{") and p.count("/") == 4)
