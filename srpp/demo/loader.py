"""Load the demo region from the YAML files in ``srpp/demo/data``."""

from __future__ import annotations

import importlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from srpp.auth import services as auth_services
from srpp.auth.models import Role, User
from srpp.core.audit import bind_actor
from srpp.cpv import services as cpv_services
from srpp.extensions import db
from srpp.orgs.models import (
    FundingKind,
    FundingMeasure,
    Municipality,
    MunicipalityType,
    PriorityArea,
    Region,
    ServiceCategory,
    Supplier,
    SupplierKind,
)

DATA = Path(__file__).parent / "data"


class DemoRefused(RuntimeError):
    pass


def read(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def demo_logins() -> list[tuple[str, str]]:
    users = read("users.yaml")
    logins = [(u["email"], ", ".join(r["role"] for r in u["roles"])) for u in users["users"]]
    for m in read("region.yaml")["municipalities"]:
        for spec in users["per_municipality"]:
            logins.append((f"{spec['prefix']}.{m['code'].lower()}@{users['domain']}", f"{spec['role']} {m['code']}"))
    return logins


def state() -> str:
    """'empty', 'demo' (already loaded) or 'foreign' (holds data that is not the demo's)."""
    if db.session.scalar(select(func.count()).select_from(User).where(User.is_demo.is_(False))):
        return "foreign"
    if db.session.scalar(select(func.count()).select_from(Supplier).where(Supplier.is_demo.is_(False))):
        return "foreign"
    demo_codes = {m["code"] for m in read("region.yaml")["municipalities"]}
    codes = set(db.session.scalars(select(Municipality.code)))
    if codes - demo_codes:
        return "foreign"
    if db.session.scalar(select(User.id).where(User.email == "admin@demo.srpp.lt")):
        return "demo"
    if codes:
        return "foreign"
    return "empty"


def load(extra_steps: bool = True) -> str:
    """Load the demo region into an empty database. Returns 'loaded' or 'already loaded'."""
    current = state()
    if current == "demo":
        return "already loaded"
    if current == "foreign":
        raise DemoRefused("the database already holds data that is not the demo region's; refusing to load")
    bind_actor(db.session(), None)
    load_reference()
    region = _load_region()
    munis = {m.code: m for m in region.municipalities}
    cats = _load_categories()
    _load_funding()
    suppliers = _load_suppliers(cats, munis)
    _load_users(region, munis, suppliers)
    db.session.flush()
    if extra_steps:
        for dotted in DEMO_STEPS:
            module, _, func = dotted.partition(":")
            getattr(importlib.import_module(module), func)()
    db.session.commit()
    return "loaded"


def load_reference() -> dict[str, int]:
    """CPV vocabulary and EU thresholds: idempotent, needed by every installation."""
    from srpp.clauses import services as clause_services
    from srpp.rules.services import load_thresholds

    conn = db.session.connection()
    counts = {"cpv codes": cpv_services.load_vocabulary(conn), "eu threshold periods": load_thresholds(conn)}
    loaded = clause_services.load()
    counts["clause editions added or updated"] = len(loaded.added) + len(loaded.updated)
    from srpp.payments.services import load_reference_rates

    counts["reference rates added"] = load_reference_rates()
    counts["indicators added or changed"] = importlib.import_module("srpp.kpis.services").load_registry()  # issue 8
    counts.update(importlib.import_module("srpp.risks.services").load_reference())  # issue 8: risk register, targets
    db.session.commit()
    return counts


#: the loaders of later areas, run in this order after the foundation ("module:function")
DEMO_STEPS: list[str] = ["srpp.plans.demo:load", "srpp.suppliers.demo:load", "srpp.tenders.demo:load",
                         "srpp.frameworks.demo:load", "srpp.payments.demo:load"]
DEMO_STEPS.append("srpp.assets.demo:load")  # issue 8, social assets (panauda); before the indicator demo
DEMO_STEPS.append("srpp.demo.history:load")  # issue 8: past procurement for the computed indicators
DEMO_STEPS.append("srpp.kpis.demo:load")  # issue 8: indicator values, risk reviews and alerts (last)


def _load_region() -> Region:
    data = read("region.yaml")
    r = data["region"]
    region = Region(code=r["code"], name_lt=r["name_lt"], name_en=r["name_en"], name_lv=r.get("name_lv"),
                    country=r["country"], council_acronym=r["council"]["acronym"],
                    council_name_lt=r["council"]["name_lt"], council_name_en=r["council"]["name_en"])
    db.session.add(region)
    for i, m in enumerate(data["municipalities"]):
        region.municipalities.append(Municipality(
            code=m["code"], type=MunicipalityType(m["type"]), is_hub=m.get("is_hub", False), sort_order=i,
            name_lt=m["name_lt"], name_en=m["name_en"], name_lv=m.get("name_lv"),
            short_name_lt=m["short_name_lt"], short_name_en=m["short_name_en"],
            address=m.get("address"), contact_email=m.get("contact_email"), contact_phone=m.get("contact_phone"),
            procurement_note=m.get("procurement_note"),
        ))
    db.session.flush()
    return region


def _load_categories() -> dict[str, ServiceCategory]:
    cats = {}
    for i, c in enumerate(read("categories.yaml")["categories"]):
        codes = cpv_services.validate_codes(c["cpv"])
        cat = ServiceCategory(
            key=c["key"], name_lt=c["name_lt"], name_en=c["name_en"], priority_area=PriorityArea(c["area"]),
            secondary_area=PriorityArea(c["secondary"]) if c.get("secondary") else None,
            main_cpv=codes[0].code, target_group_en=c.get("target_en"), target_group_lt=c.get("target_lt"),
            unit_en=c.get("unit_en"), unit_lt=c.get("unit_lt"), specialised=c.get("specialised", False),
            is_bundle=c.get("bundle", False), sort_order=i,
        )
        cat.cpv_codes = codes
        db.session.add(cat)
        cats[cat.key] = cat
    db.session.flush()
    return cats


def _load_funding() -> None:
    for f in read("funding.yaml")["funding_measures"]:
        db.session.add(FundingMeasure(code=f["code"], kind=FundingKind(f["kind"]), name_lt=f["name_lt"],
                                      name_en=f["name_en"], eu_rate=Decimal(f["eu_rate"]) if f.get("eu_rate") else None))


def _load_suppliers(cats: dict[str, ServiceCategory], munis: dict[str, Municipality]) -> dict[str, Supplier]:
    out = {}
    for s in read("suppliers.yaml")["suppliers"]:
        contact = s.get("contact") or {}
        sup = Supplier(
            company_code=s["code"], legal_name=s["legal_name"], legal_form=s["legal_form"],
            kind=SupplierKind(s["kind"]), staff_count=s.get("staff"),
            max_contract_value=Decimal(s["capacity"]) if s.get("capacity") else None,
            description_en=s.get("description_en"), description_lt=s.get("description_lt"),
            contact_name=contact.get("name"), contact_email=contact.get("email"), contact_phone=contact.get("phone"),
            is_demo=True,
        )
        sup.categories = [cats[k] for k in s.get("categories", [])]
        sup.municipalities = [munis[k] for k in s.get("municipalities", [])]
        db.session.add(sup)
        out[sup.company_code] = sup
    db.session.flush()
    return out


def _load_users(region: Region, munis: dict[str, Municipality], suppliers: dict[str, Supplier]) -> None:
    data = read("users.yaml")
    password = data["password"]
    for u in data["users"]:
        user = auth_services.create_user(None, email=u["email"], full_name=u["name"], password=password,
                                         locale=u.get("locale", "lt"), is_demo=True)
        for r in u["roles"]:
            auth_services.add_membership(
                None, user, Role(r["role"]),
                region_id=region.id if r.get("region") else None,
                supplier_id=suppliers[r["supplier"]].id if r.get("supplier") else None,
            )
    by_email: dict[str, User] = {}
    for code, muni in munis.items():
        for spec in data["per_municipality"]:
            user = auth_services.create_user(
                None, email=f"{spec['prefix']}.{code.lower()}@{data['domain']}",
                full_name=f"{spec['name']} ({muni.short_name_lt})", password=password, is_demo=True)
            auth_services.add_membership(None, user, Role(spec["role"]), municipality_id=muni.id)
            by_email[user.email] = user
    for extra in data.get("extra_memberships", []):
        auth_services.add_membership(None, by_email[extra["email"]], Role(extra["role"]),
                                     municipality_id=munis[extra["municipality"]].id)
