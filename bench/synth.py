"""Synthetic data for the benchmarks: a large region in a fresh PostgreSQL database.

    python -m bench.synth --url postgresql+psycopg://postgres@127.0.0.1:5432/srpp_bench \\
        --municipalities 60 --suppliers 500 --seed 1

The database is dropped and created, migrated with Alembic, then filled by the generators of
``GENERATORS`` in registration order. A generator is a function ``(conn, rng, scale) -> None``
that fills one group of tables and is registered with the ``@generator(*tables)`` decorator
naming them; when one of those tables is not in the schema yet the generator is skipped with a
note. Later issues append generators for their tables (plan items, lots, invoices …) here.

Bulk rows go in with PostgreSQL COPY (``copy_rows``). The small reference tables (CPV vocabulary,
service categories, funding measures) are inserted with SQLAlchemy Core from the same files the
demo region uses. Each generator gets its own ``random.Random`` seeded from the run's seed and
the generator's name, so the data are deterministic and adding or skipping a generator does not
change what the others produce.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from argon2 import PasswordHasher
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, create_engine, func, insert, select, table, text
from sqlalchemy.engine import URL, make_url

from srpp import migrate
from srpp.auth.models import Role, User
from srpp.cpv.services import load_vocabulary
from srpp.demo.loader import read
from srpp.orgs.models import (
    FundingMeasure,
    Municipality,
    MunicipalityType,
    Region,
    ServiceCategory,
    Supplier,
    SupplierKind,
    category_cpv,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/srpp_bench"
#: every synthetic user has this password
PASSWORD = "bench12345"
EMAIL_DOMAIN = "bench.srpp.lt"


@dataclass(frozen=True)
class Scale:
    """How many rows to generate (each field is also a command-line option)."""

    regions: int = 10
    municipalities: int = 60
    suppliers: int = 500
    # targets for the generators that later issues add with their tables
    plan_items: int = 100_000
    lots: int = 100_000
    contracts: int = 40_000
    invoices: int = 1_000_000

    def __post_init__(self) -> None:
        if not 1 <= self.regions <= self.municipalities:
            raise ValueError("need at least one region and at least one municipality per region")
        if any(getattr(self, f.name) < 0 for f in dataclasses.fields(self)):
            raise ValueError("sizes cannot be negative")


Fill = Callable[[Connection, random.Random, Scale], None]


@dataclass(frozen=True)
class Generator:
    name: str
    tables: tuple[str, ...]  # the tables it fills; it runs only when all of them exist
    fill: Fill


#: run in this order; later ones read the ids the earlier ones created
GENERATORS: list[Generator] = []


def generator(*tables: str) -> Callable[[Fill], Fill]:
    """Register the decorated function as the generator filling ``tables``."""

    def register(fill: Fill) -> Fill:
        GENERATORS.append(Generator(fill.__name__, tables, fill))
        return fill

    return register


@dataclass
class Step:
    """What one step did: seconds it took and the rows its tables hold afterwards."""

    name: str
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why the step did not run


# ---------------------------------------------------------------------------------------------
# database plumbing


def create_database(url: URL) -> None:
    """Drop (terminating open sessions) and create the database ``url`` names."""
    if not url.database:
        raise ValueError(f"the URL names no database: {url!r}")
    admin = make_conninfo(host=url.host, port=url.port, user=url.username, password=url.password,
                          dbname="postgres")
    name = sql.Identifier(url.database)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def existing_tables(conn: Connection) -> set[str]:
    return set(conn.scalars(text(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )))


def count_rows(conn: Connection, name: str) -> int:
    return conn.scalar(select(func.count()).select_from(table(name))) or 0


def table_rows(url: str) -> dict[str, int]:
    """Rows per table of the database at ``url`` (Alembic's bookkeeping table left out)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = sorted(existing_tables(conn) - {"alembic_version"})
            return {name: count_rows(conn, name) for name in names}
    finally:
        engine.dispose()


def copy_rows(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY ``rows`` into ``table_name`` within the connection's transaction."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table_name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def ids_by(conn: Connection, key: Any, ident: Any, *where: Any) -> dict[Any, int]:
    """``{key: id}`` for every row (that ``where`` selects), e.g. ``ids_by(conn, Supplier.company_code,
    Supplier.id)``."""
    return dict(conn.execute(select(key, ident).where(*where)).all())


#: the rows the generators made, so that they also fill a database that holds other data (the demo
#: region, for bench/bench_load.py) without touching it
SYNTHETIC_REGION = Region.code.startswith("SYN-R")
SYNTHETIC_MUNICIPALITY = Municipality.code.startswith("SYN")
SYNTHETIC_SUPPLIER = Supplier.is_demo.is_(False)


# ---------------------------------------------------------------------------------------------
# synthetic names

SYLLABLES = ("ber", "ža", "lau", "kė", "ši", "ma", "ru", "dai", "na", "vi", "liu", "to", "gi", "rė",
             "ka", "pa", "ne", "vė", "ži", "jo", "sa", "lo", "tra", "kai", "ūd", "mė")
FIRST_NAMES = ("Jonas", "Ona", "Tomas", "Rasa", "Lukas", "Eglė", "Vytas", "Aldona", "Mantas", "Rūta",
               "Darius", "Inga", "Paulius", "Giedrė", "Andrius", "Lina")
LAST_NAMES = ("Petrauskas", "Jankauskienė", "Žukauskas", "Butkutė", "Balčiūnas", "Paulauskienė",
              "Vasiliauskas", "Urbonaitė", "Kazlauskas", "Stankevičienė", "Navickas", "Šimkutė")
ORG_NOUNS = (("globa", "care"), ("pagalba", "help"), ("bendruomenė", "community"), ("dirbtuvės", "workshops"),
             ("mobilumas", "mobility"), ("namai", "home"), ("jaunimo erdvė", "youth space"), ("paslaugos", "services"))
KINDS: dict[SupplierKind, tuple[int, str]] = {  # weight, legal form
    SupplierKind.SEO: (40, "VšĮ"),
    SupplierKind.NGO: (20, "Asociacija"),
    SupplierKind.WISE: (15, "UAB"),
    SupplierKind.COOPERATIVE: (10, "Kooperatyvas"),
    SupplierKind.COMPANY: (12, "UAB"),
    SupplierKind.SUPPORT_BODY: (3, "VšĮ"),
}


def place_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct made-up place names such as "Beržalaukė"."""
    names: dict[str, None] = {}
    while len(names) < count:
        names["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()] = None
    return list(names)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def phone(rng: random.Random) -> str:
    return f"+370 6{rng.randrange(10**7):07d}"


# ---------------------------------------------------------------------------------------------
# generators


@generator("cpv_codes")
def cpv_vocabulary(conn: Connection, rng: random.Random, scale: Scale) -> None:
    load_vocabulary(conn)


@generator("service_categories", "service_category_cpv")
def service_categories(conn: Connection, rng: random.Random, scale: Scale) -> None:
    categories = read("categories.yaml")["categories"]
    conn.execute(insert(ServiceCategory), [
        {"key": c["key"], "name_lt": c["name_lt"], "name_en": c["name_en"], "priority_area": c["area"],
         "secondary_area": c.get("secondary"), "main_cpv": c["cpv"][0],
         "target_group_en": c.get("target_en"), "target_group_lt": c.get("target_lt"),
         "unit_en": c.get("unit_en"), "unit_lt": c.get("unit_lt"), "specialised": c.get("specialised", False),
         "is_bundle": c.get("bundle", False), "sort_order": i}
        for i, c in enumerate(categories)
    ])
    ids = ids_by(conn, ServiceCategory.key, ServiceCategory.id)
    conn.execute(insert(category_cpv), [
        {"category_id": ids[c["key"]], "cpv_code": code} for c in categories for code in c["cpv"]
    ])


@generator("funding_measures")
def funding_measures(conn: Connection, rng: random.Random, scale: Scale) -> None:
    conn.execute(insert(FundingMeasure), [
        {"code": f["code"], "kind": f["kind"], "name_lt": f["name_lt"], "name_en": f["name_en"],
         "eu_rate": Decimal(f["eu_rate"]) if f.get("eu_rate") else None}
        for f in read("funding.yaml")["funding_measures"]
    ])


def region_code(index: int) -> str:
    return f"SYN-R{index + 1:02d}"


def municipality_code(index: int) -> str:
    return f"SYN{index + 1:03d}"


@generator("regions", "municipalities")
def regions_and_municipalities(conn: Connection, rng: random.Random, scale: Scale) -> None:
    names = place_names(rng, scale.regions + scale.municipalities)
    region_names, town_names = names[:scale.regions], names[scale.regions:]
    copy_rows(conn, "regions", ("code", "name_lt", "name_en", "council_acronym", "council_name_lt",
                                "council_name_en", "country"), (
        (region_code(r), f"{name} regionas (sintetinis)", f"{name} region (synthetic)", f"RPT{r + 1:02d}",
         f"{name} regiono plėtros taryba", f"{name} Regional Development Council", "LT")
        for r, name in enumerate(region_names)
    ))
    region_ids = ids_by(conn, Region.code, Region.id)
    rows = []
    for i, town in enumerate(town_names):
        r = i * scale.regions // scale.municipalities  # contiguous blocks; the first of each is the hub city
        first_of_region = i == 0 or (i - 1) * scale.regions // scale.municipalities != r
        kind = MunicipalityType.CITY if first_of_region else MunicipalityType.DISTRICT
        code = municipality_code(i)
        suffix_lt, suffix_en = ("miesto", "City") if first_of_region else ("rajono", "District")
        rows.append((
            region_ids[region_code(r)], code, f"{town} {suffix_lt} savivaldybė", f"{town} {suffix_en} Municipality",
            town, town, kind.value, first_of_region, i,
            f"pirkimai@{code.lower()}.{EMAIL_DOMAIN}", phone(rng), f"Laisvės a. {rng.randint(1, 99)}, {town}",
        ))
    copy_rows(conn, "municipalities", ("region_id", "code", "name_lt", "name_en", "short_name_lt", "short_name_en",
                                       "type", "is_hub", "sort_order", "contact_email", "contact_phone",
                                       "address"), rows)


@generator("suppliers", "supplier_categories", "supplier_municipalities")
def suppliers(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """Suppliers serving their home municipality and a few others, mostly in the same region."""
    kinds = list(KINDS)
    weights = [KINDS[k][0] for k in kinds]
    towns = place_names(rng, scale.suppliers)
    rows = []
    kind_of: dict[str, SupplierKind] = {}
    for i, town in enumerate(towns):
        kind = rng.choices(kinds, weights)[0]
        company_code = f"98{i + 1:07d}"  # 9 digits like a real code; the demo's start with 99
        kind_of[company_code] = kind
        noun_lt, noun_en = rng.choice(ORG_NOUNS)
        rows.append((
            f'{KINDS[kind][1]} "{town} {noun_lt}"', company_code, KINDS[kind][1], kind.value, "LT",
            f"{town} {noun_lt}: sintetinė organizacija našumo bandymams.",
            f"{town} {noun_en}: a synthetic organisation for the benchmarks.",
            rng.randint(1, 150), Decimal(rng.randrange(10_000, 1_000_000, 5_000)),
            person_name(rng), f"info@s{i + 1:05d}.{EMAIL_DOMAIN}", phone(rng), False,
        ))
    copy_rows(conn, "suppliers", ("legal_name", "company_code", "legal_form", "kind", "country", "description_lt",
                                  "description_en", "staff_count", "max_contract_value", "contact_name",
                                  "contact_email", "contact_phone", "is_demo"), rows)

    supplier_ids = ids_by(conn, Supplier.company_code, Supplier.id, Supplier.company_code.in_(kind_of))
    categories = conn.execute(select(ServiceCategory.id, ServiceCategory.is_bundle)).all()
    single = [cid for cid, bundle in categories if not bundle]
    bundles = [cid for cid, bundle in categories if bundle]
    region_of = ids_by(conn, Municipality.id, Municipality.region_id, SYNTHETIC_MUNICIPALITY)
    by_region: dict[int, list[int]] = {}
    for mid, rid in sorted(region_of.items()):
        by_region.setdefault(rid, []).append(mid)
    municipality_ids = sorted(region_of)

    category_links: list[tuple[int, int]] = []
    municipality_links: list[tuple[int, int]] = []
    for code, sid in sorted(supplier_ids.items()):
        home = rng.choice(municipality_ids)
        peers = [m for m in by_region[region_of[home]] if m != home]
        served = {home, *rng.sample(peers, rng.randint(0, min(4, len(peers))))}
        if rng.random() < 0.1:  # a few work across regions
            served.update(rng.sample(municipality_ids, min(3, len(municipality_ids))))
        municipality_links.extend((sid, m) for m in sorted(served))
        if kind_of[code] is SupplierKind.SUPPORT_BODY:
            continue  # support bodies train and advise; they do not tender
        offered = set(rng.sample(single, min(rng.randint(1, 4), len(single))))
        if bundles and rng.random() < 0.1:
            offered.add(rng.choice(bundles))
        category_links.extend((sid, c) for c in sorted(offered))
    copy_rows(conn, "supplier_categories", ("supplier_id", "category_id"), category_links)
    copy_rows(conn, "supplier_municipalities", ("supplier_id", "municipality_id"), municipality_links)


@generator("users", "memberships")
def users_and_memberships(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """An administrator, a council viewer per region, a procurement and a finance officer per
    municipality; all share one argon2 hash of ``PASSWORD`` (hashing is slow by design), salted
    from ``rng`` so that the rows are deterministic too."""
    password_hash = PasswordHasher().hash(PASSWORD, salt=rng.randbytes(16))
    # (e-mail, role, scope column, scope id)
    accounts: list[tuple[str, Role, str | None, int | None]] = [(f"admin@{EMAIL_DOMAIN}", Role.ADMIN, None, None)]
    for code, rid in sorted(ids_by(conn, Region.code, Region.id, SYNTHETIC_REGION).items()):
        accounts.append((f"council.{code.lower()}@{EMAIL_DOMAIN}", Role.COUNCIL_VIEWER, "region_id", rid))
    for code, mid in sorted(ids_by(conn, Municipality.code, Municipality.id, SYNTHETIC_MUNICIPALITY).items()):
        accounts.append((f"officer.{code.lower()}@{EMAIL_DOMAIN}", Role.PROCUREMENT_OFFICER, "municipality_id", mid))
        accounts.append((f"finance.{code.lower()}@{EMAIL_DOMAIN}", Role.FINANCE_OFFICER, "municipality_id", mid))
    copy_rows(conn, "users", ("email", "full_name", "password_hash", "locale", "active", "is_demo"), (
        (email, person_name(rng), password_hash, "en" if rng.random() < 0.1 else "lt", True, False)
        for email, *_ in accounts
    ))

    user_ids = ids_by(conn, User.email, User.id)
    copy_rows(conn, "memberships", ("user_id", "role", "region_id", "municipality_id"), (
        (user_ids[email], role.value, scope_id if column == "region_id" else None,
         scope_id if column == "municipality_id" else None)
        for email, role, column, scope_id in accounts
    ))


@generator("procurement_plans", "plan_versions", "plan_items")
def plans_and_items(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """One 12-month plan per municipality (2026-10 to 2027-09) with a superseded version 1 and a
    published version 2; ``scale.plan_items`` items in all, 10 % of them in the old versions."""
    import datetime as dt
    import uuid

    from srpp.plans.models import PlanVersion, ProcurementPlan

    categories = conn.execute(select(ServiceCategory.id, ServiceCategory.main_cpv,
                                     ServiceCategory.priority_area)).all()
    funding = [row[0] for row in conn.execute(select(FundingMeasure.id))]
    municipalities = sorted(ids_by(conn, Municipality.code, Municipality.id, SYNTHETIC_MUNICIPALITY).items())
    start, end = dt.date(2026, 10, 1), dt.date(2027, 9, 30)
    published_v1 = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)
    published_v2 = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    copy_rows(conn, "procurement_plans", ("municipality_id", "period_start", "period_end", "title"), (
        (mid, start, end, f"Synthetic plan {code} 2026-10 – 2027-09") for code, mid in municipalities
    ))
    plan_ids = ids_by(conn, ProcurementPlan.municipality_id, ProcurementPlan.id)
    copy_rows(conn, "plan_versions", ("plan_id", "municipality_id", "number", "state", "published_at", "review_due",
                                      "superseded_at", "version"), (
        row for _, mid in municipalities for row in (
            (plan_ids[mid], mid, 1, "superseded", published_v1, dt.date(2026, 10, 1), published_v2, 1),
            (plan_ids[mid], mid, 2, "published", published_v2, dt.date(2027, 4, 1), None, 1),
        )
    ))
    version_ids = {(r.municipality_id, r.number): r.id
                   for r in conn.execute(select(PlanVersion.municipality_id, PlanVersion.number, PlanVersion.id))}
    reservations = ["none"] * 7 + ["res-ws", "res-pub-ser", "lt-23-1-5"]
    months = [dt.date(2026 + (9 + m) // 12, (9 + m) % 12 + 1, 1) for m in range(12)]
    per_muni = max(1, scale.plan_items // max(1, len(municipalities)))

    def items():
        for _, mid in municipalities:
            for n in range(per_muni):
                number = 1 if n < per_muni // 10 else 2
                cat_id, cpv, area = rng.choice(categories)
                reservation = rng.choice(reservations)
                duration = rng.choice((12, 12, 24, 24, 36)) if reservation == "res-pub-ser" else rng.randint(6, 48)
                value = Decimal(rng.randrange(5_000, 200_000, 50))
                yield (version_ids[(mid, number)], mid, uuid.UUID(int=rng.getrandbits(128)).hex, n,
                       f"Synthetic service {n} ({cpv})", cat_id, cpv, area, value, rng.choice(months), duration,
                       "simplified" if value < 150_000 else "light_regime", reservation, rng.randint(1, 3),
                       rng.choice(funding), False, "planned", published_v2)

    copy_rows(conn, "plan_items", ("plan_version_id", "municipality_id", "uid", "position", "title", "category_id",
                                   "main_cpv", "priority_area", "estimated_value", "launch_month", "duration_months",
                                   "procedure", "reservation", "intended_lots", "funding_measure_id", "is_bundle",
                                   "state", "content_changed_at"), items())


@generator("tenders", "lots")
def tenders_and_lots(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """``scale.lots`` open lots in tenders of ten lots each, spread over the municipalities: 80 %
    published (their lots are in the pipeline), the rest drafts or in evaluation; a third reserved."""
    import datetime as dt

    from srpp.tenders.models import Tender

    categories = conn.execute(select(ServiceCategory.id, ServiceCategory.main_cpv)).all()
    municipalities = sorted(ids_by(conn, Municipality.code, Municipality.id, SYNTHETIC_MUNICIPALITY).items())
    per_tender = 10
    count = max(1, scale.lots // per_tender)
    published = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    states = ["published"] * 8 + ["draft", "evaluation"]
    copy_rows(conn, "tenders", ("municipality_id", "title", "procedure", "state", "is_srpp", "published_at",
                                "submission_deadline", "version"), (
        (municipalities[n % len(municipalities)][1], f"Synthetic tender {n}", "simplified", state, True,
         None if state == "draft" else published, dt.date(2027, 1 + n % 12, 15), 1)
        for n in range(count) for state in [rng.choice(states)]
    ))
    tenders = conn.execute(select(Tender.id, Tender.municipality_id, Tender.state)
                           .where(Tender.title.startswith("Synthetic tender "))).all()
    reservations = ["none", "none", "res-ws", "lt-23-1-5", "none", "res-pub-ser"]

    def lots():
        for tender_id, municipality_id, _state in tenders:
            for number in range(1, per_tender + 1):
                cat_id, cpv = rng.choice(categories)
                reservation = rng.choice(reservations)
                if reservation == "res-pub-ser" and not cpv.startswith("85"):
                    reservation = "res-ws"
                yield (tender_id, municipality_id, number, f"Synthetic lot {number} ({cpv})", cat_id, cpv,
                       Decimal(rng.randrange(5_000, 120_000, 50)), rng.choice((12, 24, 36)), True, False, reservation,
                       "open", 1)

    copy_rows(conn, "lots", ("tender_id", "municipality_id", "number", "title", "category_id", "main_cpv",
                             "estimated_value", "duration_months", "consortium_allowed", "is_rural", "reservation",
                             "state", "version"), lots())


# ---------------------------------------------------------------------------------------------
# contracts, invoices and payments (issue 7)

#: four years of invoices, received from PAYMENTS_FROM up to PAYMENTS_AS_OF (both included), so that
#: each half-year holds about an eighth of them; their stored figures (state, days late, interest …)
#: are as of PAYMENTS_AS_OF, as the daily scan would have left them that evening
PAYMENTS_FROM = dt.date(2022, 12, 1)
PAYMENTS_AS_OF = dt.date(2026, 11, 30)
#: as the settings' defaults (payments.fixed_compensation, .due_warning_days, .interest_margin)
FIXED_COMPENSATION_CENTS = 40_00
DUE_WARNING_DAYS = 5
INTEREST_MARGIN = Decimal(8)
RATES_FILE = Path(__file__).resolve().parent.parent / "srpp" / "payments" / "data" / "reference_rates.yaml"
LONG_TERM_JUSTIFICATION = ("Mokėjimai priklauso nuo ES fondų lėšų pervedimo / payments depend on the transfer of "
                           "EU funds (synthetic)")
DISPUTE_REASON = "Kiekiai neatitinka priėmimo akto / quantities differ from the acceptance record (synthetic)"
STOPPAGE_CAUSES = ("Nesumokėta už du mėnesius / two months unpaid", "Trūksta darbuotojų / staff shortage",
                   "Patalpų remontas / premises under repair")


def money(cents: int) -> str:
    """Cents as the text COPY reads into a numeric(14, 2) column."""
    return f"{cents // 100}.{cents % 100:02d}"


@generator("reference_rates")
def reference_rates(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """The ECB reference rates the demo and production seed (``flask reference load``)."""
    import yaml

    from srpp.payments.models import ReferenceRate

    conn.execute(insert(ReferenceRate), [
        {"valid_from": dt.date.fromisoformat(str(r["valid_from"])), "rate": Decimal(str(r["rate"])),
         "source": r.get("source")}
        for r in yaml.safe_load(RATES_FILE.read_text(encoding="utf-8"))
    ])


@generator("contracts", "work_stoppages")
def contracts(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """``scale.contracts`` contracts entered directly (no lot or call-off), each between a
    municipality and a supplier serving it (not a support body), of one to four years, starting so
    that about as many run at any time of the four years of invoices; 80 % with the 30-day payment
    term, the others 45 or 60 days with a justification; 30 % with an acceptance procedure. A work
    stoppage for about one contract in 200."""
    from srpp.contracts.models import Contract

    served: dict[int, list[int]] = {}
    for mid, sid in conn.execute(text(
            "SELECT sm.municipality_id, sm.supplier_id FROM supplier_municipalities sm"
            " JOIN suppliers s ON s.id = sm.supplier_id WHERE s.kind <> 'support_body' ORDER BY 1, 2")):
        served.setdefault(mid, []).append(sid)
    anyone = sorted(sid for sid, kind in ids_by(conn, Supplier.id, Supplier.kind, SYNTHETIC_SUPPLIER).items()
                    if kind != SupplierKind.SUPPORT_BODY.value)
    municipality_ids = sorted(ids_by(conn, Municipality.id, Municipality.id, SYNTHETIC_MUNICIPALITY))
    cpvs = list(conn.scalars(select(ServiceCategory.main_cpv).order_by(ServiceCategory.id)))
    if not (municipality_ids and anyone and cpvs):
        return
    first, last = PAYMENTS_FROM.toordinal(), PAYMENTS_AS_OF.toordinal()
    day = dt.date.fromordinal
    rows = []
    for n in range(scale.contracts):
        mid = rng.choice(municipality_ids)
        sid = rng.choice(served.get(mid) or anyone)
        length = round(rng.choice((12, 12, 24, 24, 36, 48)) * 365.25 / 12)
        start = rng.randint(first - length + 30, last - 30)
        end = start + length - 1
        r = rng.random()
        term, justification = (30, None) if r < 0.8 else (45, LONG_TERM_JUSTIFICATION) if r < 0.9 else \
            (60, LONG_TERM_JUSTIFICATION)
        acceptance = rng.choice((5, 10, 15, 20, 30)) if rng.random() < 0.3 else None
        state = "terminated" if rng.random() < 0.01 else "active" if end >= last else "completed"
        value = Decimal(rng.randrange(10_000, 400_000, 100))
        cpv = rng.choice(cpvs)
        rows.append((mid, sid, f"Synthetic contract {n + 1} ({cpv})", value, value, day(start - rng.randint(14, 60)),
                     day(start), day(end), cpv, rng.choice(("none", "none", "none", "res-ws", "lt-23-1-5")), state,
                     f"SYN-C{n + 1:06d}", term, justification, "working" if rng.random() < 0.1 else "calendar",
                     acceptance, Decimal(rng.choice((0, 0, 0, 0, 10, 20, 30)))))
    copy_rows(conn, "contracts", ("municipality_id", "supplier_id", "title", "value", "initial_value", "awarded_on",
                                  "start_date", "end_date", "main_cpv", "reservation", "state", "reference",
                                  "payment_term_days", "payment_term_justification", "day_type", "acceptance_days",
                                  "advance_percent"), rows)

    ids = ids_by(conn, Contract.reference, Contract.id)
    stoppages = []
    for _ in range(scale.contracts // 200):
        row = rng.choice(rows)
        lo, hi = max(row[6].toordinal(), first), min(row[7].toordinal(), last)
        if lo > hi:
            continue
        started = rng.randint(lo, hi)
        ended = started + rng.randint(1, 30)
        stoppages.append((ids[row[11]], day(started), day(ended) if ended <= last else None,
                          rng.choice(STOPPAGE_CAUSES), rng.random() < 0.6))
    copy_rows(conn, "work_stoppages", ("contract_id", "started_on", "ended_on", "cause", "reported_by_supplier"),
              stoppages)


@generator("invoices", "payments")
def invoices_and_payments(conn: Connection, rng: random.Random, scale: Scale) -> None:
    """``scale.invoices`` invoices under the contracts, received from PAYMENTS_FROM to PAYMENTS_AS_OF
    (each contract gets a share in proportion to the days it runs in that window), with their payments
    and the figures the services store (``services.recompute`` as of PAYMENTS_AS_OF): due date from the
    receipt or the end of acceptance plus the term (plus the days a resolved dispute stopped the clock),
    rolled to a working day; state; paid amount and day; days to pay and late; interest at the reference
    rate of each day's half-year + 8 points (actual/365, as ``calc.interest``, in floating point) and the
    EUR 40 compensation.

    Each municipality pays 4–12 % of its invoices late (on average 12 days), one municipality 35 % (on
    average 30 days); 0.3 % are never paid; the others are paid before the due date, most within 10–30
    days; 3 % are paid in two instalments; 1 % are disputed (most disputes resolved within 40 days).
    Invoices whose payment would fall after PAYMENTS_AS_OF are still open. The rows go in in the order
    of receipt, as the finance officers and imports would have recorded them (the physical order of the
    table follows the dates, which matters for the plans). Ids are given in the COPY (so the payments
    can name their invoice without reading a million ids back), then the sequence is moved past them."""
    from array import array

    from srpp.contracts.models import Contract
    from srpp.core.workdays import roll_forward
    from srpp.payments import calc
    from srpp.payments.models import ReferenceRate

    cs = conn.execute(select(Contract.id, Contract.municipality_id, Contract.supplier_id, Contract.reference,
                             Contract.start_date, Contract.end_date, Contract.value, Contract.payment_term_days,
                             Contract.acceptance_days).where(Contract.reference.startswith("SYN-C"))
                       .order_by(Contract.id)).all()
    first, last = PAYMENTS_FROM.toordinal(), PAYMENTS_AS_OF.toordinal()
    overlaps = [max(0, min(c.end_date.toordinal(), last) - max(c.start_date.toordinal(), first) + 1) for c in cs]
    total = sum(overlaps)
    if not total or not scale.invoices:
        return
    # the invoices shared in proportion to the days in the window (largest remainders)
    quotas = [o * scale.invoices // total for o in overlaps]
    remainders = sorted(range(len(cs)), key=lambda i: (-(overlaps[i] * scale.invoices % total), i))
    for i in remainders[:scale.invoices - sum(quotas)]:
        quotas[i] += 1

    profile = {m: (rng.uniform(0.04, 0.12), 12.0) for m in sorted({c.municipality_id for c in cs})}
    profile[rng.choice(sorted(profile))] = (0.35, 30.0)  # the one visibly worse

    # the statutory rate of each day, summed: interest on an amount over days (a, b] is
    # amount * (rate_sum[b] - rate_sum[a]) / 100 / 365
    rates = calc.Rates({d: Decimal(r) for d, r in conn.execute(select(ReferenceRate.valid_from,
                                                                       ReferenceRate.rate))}, INTEREST_MARGIN)
    base = first - 1
    rate_sum = [0.0]
    for o in range(first, last + 1):
        try:
            rate = float(rates.statutory(dt.date.fromordinal(o)))
        except LookupError:  # before the first rate in the table: the services count no interest
            rate = 0.0
        rate_sum.append(rate_sum[-1] + rate / 36_500)

    def interest(amount: int, due: int, pays: list[tuple[int, int]], end: int) -> int:
        outstanding = amount - sum(v for d, v in pays if d <= due)
        cents, since = 0.0, due
        for d, v in pays:
            if d <= due:
                continue
            cents += outstanding * (rate_sum[d - base] - rate_sum[since - base])
            outstanding -= v
            since = d
        if outstanding > 0 and end > since:
            cents += outstanding * (rate_sum[end - base] - rate_sum[since - base])
        return int(cents + 0.5)

    iso: dict[int, str] = {}
    rolled: dict[int, int] = {}

    def d(o: int | None) -> str | None:
        if o is None:
            return None
        if o not in iso:
            iso[o] = dt.date.fromordinal(o).isoformat()
        return iso[o]

    def working(o: int) -> int:
        if o not in rolled:
            rolled[o] = roll_forward(dt.date.fromordinal(o)).toordinal()  # the synthetic region is in LT
        return rolled[o]

    next_id = (conn.scalar(text("SELECT max(id) FROM invoices")) or 0) + 1
    pay_invoice, pay_day, pay_cents = array("q"), array("q"), array("q")  # compact until their COPY

    # the receipts in date order, as the finance systems record them, so that the table's physical order
    # follows the dates as in production: (day, contract, number within the contract) packed in one int
    kbits, cbits = max(quotas).bit_length(), len(cs).bit_length()
    typical = [0] * len(cs)  # cents: the contract's value over the invoices it would have in all
    packed = array("q")
    for i, (c, n, overlap) in enumerate(zip(cs, quotas, overlaps, strict=True)):
        if not n:
            continue
        start, end = c.start_date.toordinal(), c.end_date.toordinal()
        typical[i] = int(c.value * 100) * overlap // (n * (end - start + 1))
        for k, received in enumerate(sorted(rng.randint(max(start, first), min(end, last)) for _ in range(n)), 1):
            packed.append(received << (cbits + kbits) | i << kbits | k)
    schedule = sorted(packed)
    del packed

    def invoices() -> Iterable[tuple[Any, ...]]:
        inv_id = next_id
        as_of = d(last)
        for key in schedule:
            received, i, k = key >> (cbits + kbits), key >> kbits & (1 << cbits) - 1, key & (1 << kbits) - 1
            c = cs[i]
            p_late, mean_late = profile[c.municipality_id]
            term, acceptance = c.payment_term_days, c.acceptance_days
            amount = max(100, int(typical[i] * rng.uniform(0.85, 1.15)))
            accepted = disputed = resolved = None
            if acceptance is not None:
                accepted = received + rng.randint(0, acceptance)
                accepted = accepted if accepted <= last else None
            if rng.random() < 0.01:
                disputed = received + rng.randint(1, 10)
                if disputed > last:
                    disputed = None
                else:
                    resolved = disputed + rng.randint(3, 40)
                    resolved = resolved if resolved <= last else None
            paused = resolved - disputed if resolved is not None and disputed is not None else 0
            clock = received if acceptance is None else \
                max(received, accepted if accepted is not None else received + acceptance)
            due = working(clock + term + paused)
            open_dispute = disputed is not None and resolved is None
            pays: list[tuple[int, int]] = []
            if not open_dispute:
                r = rng.random()
                settle: int | None
                if r < p_late:
                    settle = due + 1 + int(rng.expovariate(1 / mean_late))
                elif r < p_late + 0.003:
                    settle = None
                else:
                    span = due - received
                    settle = received + max(1, int(rng.triangular(5, span, 0.7 * span)))
                if settle is not None and rng.random() < 0.03:
                    part = amount * rng.randint(30, 70) // 100
                    pays = [(received + rng.randint(1, settle - received), part), (settle, amount - part)]
                elif settle is not None:
                    pays = [(settle, amount)]
                pays = [(day, v) for day, v in pays if day <= last]
            paid = sum(v for _, v in pays)
            paid_on = pays[-1][0] if pays and paid >= amount else None
            if open_dispute:
                state, late = "disputed", 0
            else:
                late = max(0, (paid_on or last) - due)
                state = ("paid_late" if late else "paid") if paid_on is not None else "late" if late else \
                    "due" if due - last <= DUE_WARNING_DAYS else "received"
            owed = interest(amount, due, pays, paid_on or last) if late else 0
            yield (inv_id, c.id, c.supplier_id, c.municipality_id, f"{c.reference}-{k:03d}", money(amount),
                   d(received), f"LT-E{inv_id:08d}", d(accepted), d(disputed),
                   DISPUTE_REASON if disputed is not None else None, d(resolved), d(due), state, money(paid),
                   d(paid_on), paid_on - received if paid_on is not None else None, late, money(owed),
                   money(FIXED_COMPENSATION_CENTS if late else 0), as_of, "import")
            for day, v in pays:
                pay_invoice.append(inv_id)
                pay_day.append(day)
                pay_cents.append(v)
            inv_id += 1

    copy_rows(conn, "invoices", ("id", "contract_id", "supplier_id", "municipality_id", "number", "amount",
                                 "received_on", "e_invoice_ref", "accepted_on", "disputed_on", "dispute_reason",
                                 "dispute_resolved_on", "due_date", "state", "paid_amount", "paid_on", "days_to_pay",
                                 "days_late", "interest", "compensation", "figures_as_of", "source"), invoices())
    conn.execute(text("SELECT setval(pg_get_serial_sequence('invoices', 'id'), (SELECT max(id) FROM invoices))"))

    def payments() -> Iterable[tuple[Any, ...]]:
        previous, n = 0, 0
        for inv_id, day, v in zip(pay_invoice, pay_day, pay_cents, strict=True):
            n = n + 1 if inv_id == previous else 1
            previous = inv_id
            yield inv_id, d(day), money(v), f"MP-{inv_id:08d}-{n}", "import"

    copy_rows(conn, "payments", ("invoice_id", "paid_on", "amount", "reference", "source"), payments())


# ---------------------------------------------------------------------------------------------
# running


def since(started: float) -> float:
    return time.perf_counter() - started


def run_generator(engine: Engine, gen: Generator, scale: Scale, seed: int) -> Step:
    started = time.perf_counter()
    with engine.begin() as conn:
        missing = [t for t in gen.tables if t not in existing_tables(conn)]
        if missing:
            return Step(gen.name, 0.0, skipped=f"not in the schema yet: {', '.join(missing)}")
        gen.fill(conn, random.Random(f"{seed}:{gen.name}"), scale)
    seconds = since(started)
    with engine.connect() as conn:
        return Step(gen.name, seconds, {t: count_rows(conn, t) for t in gen.tables})


def synthesise(url: str = DEFAULT_URL, scale: Scale | None = None, seed: int = 1,
               on_step: Callable[[Step], None] | None = None) -> list[Step]:
    """Create the database at ``url`` afresh and fill it; ``on_step`` sees each step as it ends."""
    scale = scale or Scale()
    steps: list[Step] = []

    def record(step: Step) -> None:
        steps.append(step)
        if on_step:
            on_step(step)

    started = time.perf_counter()
    create_database(make_url(url))
    record(Step("create database", since(started)))

    started = time.perf_counter()
    migrate.upgrade(url)
    record(Step("migrate", since(started)))

    engine = create_engine(url)
    try:
        for gen in GENERATORS:
            record(run_generator(engine, gen, scale, seed))
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # fresh statistics, as autovacuum would leave them
        record(Step("vacuum analyze", since(started)))
    finally:
        engine.dispose()
    return steps


def print_step(step: Step) -> None:
    if step.skipped:
        print(f"{step.name:<28} skipped: {step.skipped}", flush=True)
        return
    rows = ", ".join(f"{name} {count:,}" for name, count in step.rows.items())
    print(f"{step.name:<28} {step.seconds:8.2f} s  {rows}".rstrip(), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.synth",
                                     description="Fill a fresh PostgreSQL database with a synthetic region.")
    parser.add_argument("--url", default=DEFAULT_URL, help="SQLAlchemy URL; the database is dropped and created")
    parser.add_argument("--seed", type=int, default=1)
    for f in dataclasses.fields(Scale):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, default=f.default, metavar="N")
    args = parser.parse_args(argv)
    try:
        scale = Scale(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Scale)})
    except ValueError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    synthesise(args.url, scale, args.seed, on_step=print_step)
    print(f"{'total':<28} {since(started):8.2f} s")


if __name__ == "__main__":
    main()
