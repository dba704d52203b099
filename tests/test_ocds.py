"""OCDS release packages (issue 9): the demo export is valid OCDS 1.1 with its extensions, holds only
published data and no personal data; paging, filters, errors, one process by ocid; the validator
finds broken releases; ``flask ocds validate``."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from sqlalchemy import select

from tests.ocds_validation import validate_package

pytestmark = pytest.mark.postgres

FULL = "/api/ocds/release-package-full.json"
PAGED = "/api/ocds/release-package.json"


@pytest.fixture()
def api(app, conn):
    return app.test_client()


@pytest.fixture()
def export(api):
    resp = api.get(FULL)
    assert resp.status_code == 200
    assert resp.is_streamed
    return json.loads(resp.get_data(as_text=True))


def by_kind(package, kind):
    return [r for r in package["releases"] if r["ocid"].split("-")[2] == kind]


def test_demo_export_is_valid_ocds(export):
    assert export["version"] == "1.1"
    assert export["publisher"]["name"] == "Panevėžys Regional Development Council"
    assert len(export["extensions"]) >= 12
    assert validate_package(export) == []
    kinds = {k: len(by_kind(export, k)) for k in ("plan", "tender", "fa", "calloff", "contract")}
    assert all(kinds.values()), kinds
    ids = [(r["ocid"], r["id"]) for r in export["releases"]]
    assert len(set(ids)) == len(ids)


def test_only_published_data(export, ctx):
    from srpp.plans.models import PlanItem, PlanState, PlanVersion
    from srpp.tenders.models import Tender

    ocids = {r["ocid"] for r in export["releases"]}
    published = set(ctx.scalars(select(PlanItem.uid).join(PlanVersion).where(PlanVersion.state == PlanState.PUBLISHED)))
    plan_uids = {o.split("-plan-")[1] for o in ocids if "-plan-" in o}
    assert plan_uids == published
    tenders = ctx.scalars(select(Tender)).all()
    for t in tenders:
        shown = f"ocds-srpp01-tender-{t.id}" in ocids
        assert shown == (t.published_at is not None and t.state.value not in ("draft", "ready")), t.id
    assert any(t.published_at is None for t in tenders)  # the demo has unpublished tenders


def test_planned_framework_and_draft_items_hidden(api, ctx):
    from srpp.frameworks.models import FrameworkAgreement, FrameworkState

    fa = ctx.scalars(select(FrameworkAgreement).where(FrameworkAgreement.call_offs.any())).first()
    fa.state = FrameworkState.PLANNED
    ctx.flush()
    package = json.loads(api.get(FULL).get_data(as_text=True))
    ocids = {r["ocid"] for r in package["releases"]}
    assert f"ocds-srpp01-fa-{fa.code}" not in ocids
    assert not any(f"ocds-srpp01-calloff-{co.id}" in ocids for co in fa.call_offs)
    assert api.get(f"/api/ocds/releases/ocds-srpp01-fa-{fa.code}.json").status_code == 404


def test_no_personal_data_in_the_export(api, ctx):
    from srpp.auth.models import User
    from srpp.orgs.models import Municipality, Supplier

    text = api.get(FULL).get_data(as_text=True)
    text_lt = api.get(FULL + "?lang=lt").get_data(as_text=True)
    needles = set()
    for u in ctx.scalars(select(User)):
        needles.add(u.email)
        if u.full_name and len(u.full_name) > 3:
            needles.add(u.full_name)
    for s in ctx.scalars(select(Supplier)):
        needles.update(v for v in (s.contact_name, s.contact_email, s.contact_phone) if v)
    for m in ctx.scalars(select(Municipality)):
        needles.update(v for v in (m.contact_email, m.contact_phone) if v)
    assert len(needles) > 20
    found = sorted(n for n in needles if n in text or n in text_lt)
    assert found == []
    assert "@" not in text  # no e-mail address of any kind


def test_mapping_of_reserved_lots_frameworks_call_offs_and_payments(export):
    tenders = by_kind(export, "tender")
    lots = [lot for r in tenders for lot in r["tender"].get("lots", [])]
    reserved = {tuple(lot["otherRequirements"]["reservedParticipation"]) for lot in lots if "otherRequirements" in lot}
    assert reserved == {("shelteredWorkshop",), ("publicServiceMissionOrganization",)}
    sheltered = next(lot for lot in lots if lot.get("otherRequirements", {}).get("reservedParticipation") ==
                     ["shelteredWorkshop"])
    assert {"goal": "social.disadvantagedEmploymentOpportunities",
            "strategies": ["reservedParticipation"]} in sheltered["sustainability"]
    weighted = [c for lot in lots for c in lot.get("awardCriteria", {}).get("criteria", [])]
    assert weighted and all(c["numbers"][0]["weight"] == "percentageExact" for c in weighted)
    # every tender made from a published plan item links back to it
    plan_ocids = {r["ocid"] for r in by_kind(export, "plan")}
    links = [p for r in tenders for p in r.get("relatedProcesses", [])]
    assert links and all(p["relationship"] == ["planning"] and p["identifier"] in plan_ocids for p in links)
    # frameworks: method from the eForms mapping; call-offs point at their framework
    fas = {r["ocid"]: r for r in by_kind(export, "fa")}
    methods = {r["tender"]["techniques"]["frameworkAgreement"]["method"] for r in fas.values()}
    assert "withAndWithoutReopeningCompetition" in methods and "withoutReopeningCompetition" in methods
    for r in by_kind(export, "calloff"):
        (rel,) = r["relatedProcesses"]
        assert rel["relationship"] == ["framework"] and rel["identifier"] in fas
    # payments linked to the milestones they settle
    contracts = [c for r in export["releases"] for c in r.get("contracts", [])]
    transactions = [t for c in contracts for t in c.get("implementation", {}).get("transactions", [])]
    assert transactions and all("relatedImplementationMilestone" in t for t in transactions)
    milestones = [m for c in contracts for m in c.get("implementation", {}).get("milestones", [])]
    assert {m["status"] for m in milestones} >= {"met", "scheduled"}
    # the SEO status as a classification, the scale from the staff count
    parties = [p for r in export["releases"] for p in r["parties"]]
    assert any(c["scheme"] == "LTU-SRPP-SEO" for p in parties for c in p.get("details", {}).get("classifications", []))
    assert {p["details"]["scale"] for p in parties if "scale" in p.get("details", {})} >= {"small", "medium"}


def test_paging_links_and_cap(api):
    resp = api.get(PAGED + "?page_size=5")
    assert resp.status_code == 200
    first = resp.get_json()
    assert len(first["releases"]) == 5
    total = int(resp.headers["X-Total-Count"])
    assert total > 100
    assert 'rel="next"' in resp.headers["Link"] and "page=2" in resp.headers["Link"]
    assert "X-Page-Size-Capped" not in resp.headers
    assert "public" in resp.headers["Cache-Control"]
    second = api.get(PAGED + "?page_size=5&page=2").get_json()
    assert not {r["ocid"] for r in first["releases"]} & {r["ocid"] for r in second["releases"]}
    capped = api.get(PAGED + "?page_size=5000")
    assert capped.headers["X-Page-Size-Capped"] == "1000"
    assert len(capped.get_json()["releases"]) == total  # all fit in the capped page
    assert "page_size=1000" in capped.headers["Link"]
    assert validate_package(capped.get_json()) == []


def test_filters(api):
    rok = api.get(PAGED + "?municipality=rok&page_size=1000").get_json()["releases"]
    assert rok
    for r in rok:
        parties = {p["id"] for p in r["parties"]}
        assert "MUN-ROK" in parties, r["ocid"]
    everything = int(api.get(PAGED).headers["X-Total-Count"])
    assert len(rok) < everything
    future = api.get(PAGED + "?since=2999-01-01")
    assert future.status_code == 200 and future.get_json()["releases"] == []
    today = dt.date.today().isoformat()
    recent = api.get(PAGED + f"?since={today}&page_size=1000").get_json()["releases"]
    assert all(r["date"][:10] >= today for r in recent)


@pytest.mark.parametrize(("query", "parameter"), [
    ("page_size=abc", "page_size"), ("page=0", "page"), ("municipality=XYZ", "municipality"),
    ("since=yesterday", "since"), ("lang=de", "lang"),
])
def test_invalid_parameters(api, query, parameter):
    resp = api.get(f"{PAGED}?{query}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter


def test_one_process_by_ocid(api, export):
    tender = next(r for r in by_kind(export, "tender") if "contract" in r["tag"])
    resp = api.get(f"/api/ocds/releases/{tender['ocid']}.json")
    assert resp.status_code == 200
    package = resp.get_json()
    assert [r["ocid"] for r in package["releases"]] == [tender["ocid"]]
    assert package["releases"][0] == tender
    assert validate_package(package) == []
    plan = by_kind(export, "plan")[0]
    assert api.get(f"/api/ocds/releases/{plan['ocid']}.json").get_json()["releases"] == [plan]
    for unknown in ("ocds-srpp01-tender-999999", "ocds-other-tender-1", "ocds-srpp01-plan-nope", "nonsense"):
        missing = api.get(f"/api/ocds/releases/{unknown}.json")
        assert missing.status_code == 404
        assert missing.get_json()["error"]["code"] == "not_found"
        assert missing.get_json()["error"]["parameter"] is None


def test_unpublished_tender_is_not_found(api, ctx):
    from srpp.tenders.models import Tender

    draft = ctx.scalars(select(Tender).where(Tender.published_at.is_(None))).first()
    assert api.get(f"/api/ocds/releases/ocds-srpp01-tender-{draft.id}.json").status_code == 404


def test_release_date_follows_the_latest_change(api, ctx):
    from srpp.payments.models import Payment

    payment = ctx.scalars(select(Payment).order_by(Payment.id)).first()
    contract = payment.invoice.contract
    ocid = (f"ocds-srpp01-tender-{contract.lot.tender_id}" if contract.lot_id else
            f"ocds-srpp01-calloff-{contract.call_off_id}" if contract.call_off_id else
            f"ocds-srpp01-contract-{contract.id}")
    before = api.get(f"/api/ocds/releases/{ocid}.json").get_json()["releases"][0]
    payment.updated_at = dt.datetime(2099, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    ctx.flush()
    after = api.get(f"/api/ocds/releases/{ocid}.json").get_json()["releases"][0]
    assert after["date"] == "2099-01-02T03:04:05Z" and after["id"] != before["id"]
    since = api.get(PAGED + "?since=2099-01-01").get_json()["releases"]
    assert [r["ocid"] for r in since] == [ocid]


def broken(export, mutate):
    package = copy.deepcopy(export)
    mutate(package)
    return validate_package(package)


def test_validation_finds_broken_releases(export):
    tender = next(i for i, r in enumerate(export["releases"]) if "-tender-" in r["ocid"] and any(
        c.get("implementation", {}).get("transactions") for c in r.get("contracts", [])))

    def release(p):
        return p["releases"][tender]

    def contract_with_payments(p):
        return next(c for c in release(p)["contracts"] if c.get("implementation", {}).get("transactions"))

    cases = {
        "not in parties": lambda p: release(p)["parties"].pop(0),
        "closed codelist": lambda p: release(p)["tender"].update(status="finished"),
        "not unique": lambda p: release(p)["tender"]["lots"].append(copy.deepcopy(release(p)["tender"]["lots"][0])),
        "not a lot": lambda p: release(p)["tender"]["items"][0].update(relatedLot="99"),
        "not an award": lambda p: release(p)["contracts"][0].update(awardID="nope"),
        "not a milestone": lambda p: contract_with_payments(p)["implementation"]["transactions"][0]
        .update(relatedImplementationMilestone={"id": "payment-99"}),
        "is not a 'date-time'": lambda p: release(p).update(date="2026-13-01"),
        "required property": lambda p: release(p).pop("initiationType"),
        "lacks the role": lambda p: release(p)["parties"][0].update(roles=["payer"]),
        "used twice": lambda p: p["releases"].append(copy.deepcopy(release(p))),
        "scale": lambda p: next(x for x in release(p)["parties"] if "details" in x)["details"].update(scale="huge"),
    }
    for needle, mutate in cases.items():
        errors = broken(export, mutate)
        assert errors, needle
        assert any(needle in e for e in errors), (needle, errors[:5])
    unknown = broken(export, lambda p: p["extensions"].append("https://example.org/extension.json"))
    assert any("no copy of the extension" in e for e in unknown)


def test_schema_copies_match_their_provenance():
    import hashlib
    from pathlib import Path

    from srpp.opendata.validation import SCHEMA_DIR

    entries = json.loads((SCHEMA_DIR / "PROVENANCE.json").read_text(encoding="utf-8"))
    files = {str(p.relative_to(SCHEMA_DIR)) for p in SCHEMA_DIR.rglob("*") if p.is_file()} - {"PROVENANCE.json"}
    assert {e["file"] for e in entries} == files
    for e in entries:
        assert hashlib.sha256(Path(SCHEMA_DIR, e["file"]).read_bytes()).hexdigest() == e["sha256"], e["file"]


def test_cli_validate(app, conn, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ocds", "validate"])
    assert result.exit_code == 0, result.output
    assert "releases valid" in result.output
    out = tmp_path / "package.json"
    assert runner.invoke(args=["ocds", "export", str(out)]).exit_code == 0
    package = json.loads(out.read_text(encoding="utf-8"))
    package["releases"][0]["tag"] = ["bogus"]
    out.write_text(json.dumps(package), encoding="utf-8")
    failed = runner.invoke(args=["ocds", "validate", str(out)])
    assert failed.exit_code != 0 and "bogus" in failed.output
