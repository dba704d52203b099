from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from srpp.auth.models import Role, User
from srpp.cpv.models import CpvCode
from srpp.orgs.models import Municipality, ServiceCategory, Supplier

SHARED = Path(__file__).resolve().parent.parent / "srpp" / "cpv" / "data"


def test_demo_region_has_six_municipalities_and_logins(ctx):
    codes = ctx.scalars(select(Municipality.code).order_by(Municipality.sort_order)).all()
    assert codes == ["PAN-C", "PAN-D", "BIR", "KUP", "PAS", "ROK"]
    for code in codes:
        for prefix, role in (("officer", Role.PROCUREMENT_OFFICER), ("finance", Role.FINANCE_OFFICER)):
            user = ctx.scalar(select(User).where(User.email == f"{prefix}.{code.lower()}@demo.srpp.lt"))
            assert user is not None and role in [m.role for m in user.memberships]
            assert {m.municipality.code for m in user.memberships} == {code}
    coordinators = {m.municipality.code for u in ctx.scalars(select(User)) for m in u.memberships
                    if m.role == Role.SERVICE_COORDINATOR}
    assert coordinators == {"PAN-C", "KUP", "PAS"}
    seo = ctx.scalar(select(User).where(User.email == "seo@demo.srpp.lt"))
    assert seo.memberships[0].supplier.legal_name == 'VšĮ "Jautri širdis"'


def test_every_demo_login_sees_a_home_page_for_its_role(client):
    from srpp.demo.loader import demo_logins

    expected = {"admin": "Administration", "council_viewer": "Panevėžys Regional Development Council",
                "seo_member": "Jautri širdis"}
    for email, role in demo_logins():
        client.post("/logout")
        client.post("/language", data={"locale": "en"})
        assert client.post("/login", data={"email": email, "password": "demo12345"}).status_code == 302
        client.post("/language", data={"locale": "en"})
        page = client.get("/").get_data(as_text=True)
        key = role.split()[0]
        if key in expected:
            assert expected[key] in page, email
        else:
            code = role.split()[1]
            assert "Municipality" in page, email
            assert code in page, email


def test_every_category_cpv_code_is_in_the_vocabulary(ctx):
    vocabulary = {r["code"] for r in csv.DictReader(open(SHARED / "cpv-2008.csv", encoding="utf-8"))}
    cats = ctx.scalars(select(ServiceCategory)).all()
    assert len(cats) == 23
    for cat in cats:
        assert cat.main_cpv in vocabulary
        assert cat.cpv_codes and all(c.code in vocabulary for c in cat.cpv_codes)


def test_vocabulary_is_complete_with_art77_flags(ctx):
    assert ctx.scalar(select(func.count()).select_from(CpvCode)) == 9454
    assert ctx.scalar(select(func.count()).select_from(CpvCode).where(CpvCode.is_art77)) == 115
    day = ctx.get(CpvCode, "85312100-0")
    assert day.label_lt == "Priežiūros dieną paslaugos" and day.is_art77


def test_cpv_validation_names_the_bad_codes(ctx):
    from srpp.core.errors import DomainError
    from srpp.cpv import services

    assert [c.code for c in services.validate_codes(["85312100-0", " 60140000-1 "])] == ["85312100-0", "60140000-1"]
    with pytest.raises(DomainError, match="85312100-1"):
        services.validate_codes(["85312100-1"])  # wrong check digit
    with pytest.raises(DomainError, match="853121"):
        services.validate_codes(["853121"])


def test_cpv_search_by_code_and_words(client):
    rows = client.get("/cpv/search.json?q=85312").get_json()
    assert rows and all(r["code"].startswith("85312") for r in rows)
    client.post("/language", data={"locale": "en"})
    rows = client.get("/cpv/search.json?q=day care").get_json()
    assert any(r["code"] == "85312100-0" for r in rows)
    page = client.get("/cpv/?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_demo_loader_refuses_foreign_data(ctx):
    from srpp.demo import loader

    assert loader.state() == "demo"
    assert loader.load() == "already loaded"
    ctx.add(Supplier(legal_name="Real UAB", company_code="123456789", legal_form="UAB", kind="company"))
    ctx.flush()
    assert loader.state() == "foreign"
    with pytest.raises(loader.DemoRefused):
        loader.load()
