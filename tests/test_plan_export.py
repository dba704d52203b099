"""Export of plan versions as CSV and XLSX: access, file names, exact amounts, formula injection and
re-import of an export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from srpp.auth.models import User
from srpp.orgs.models import ServiceCategory
from srpp.orgs.services import municipality_by_code
from srpp.plans import exports, imports, services
from srpp.plans.models import PlanItem, PlanState, PlanVersion, ProcurementPlan
from srpp.rules.models import Procedure


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


def _published(code: str) -> PlanVersion:
    return services.current_published(municipality_by_code(code))


@pytest.fixture()
def rok_draft(ctx):
    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    plan = ctx.scalar(select(ProcurementPlan).where(
        ProcurementPlan.municipality_id == municipality_by_code("ROK").id))
    draft = services.start_new_version(officer, plan)
    ctx.flush()
    return officer, draft


def _csv_records(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _add(ctx, officer, version, **over) -> PlanItem:
    cat = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == over.pop("category", "DEM_DAY")))
    import datetime as dt

    base = dict(title="Dienos centras", category_id=cat.id, main_cpv=cat.main_cpv,
                estimated_value=Decimal("1234.50"), launch_month=dt.date(2027, 3, 1), duration_months=12,
                procedure=Procedure.SIMPLIFIED)
    base.update(over)
    item = services.add_item(officer, version, services.ItemInput(**base))
    ctx.flush()
    return item


def test_published_versions_are_public_with_a_file_name(client, ctx):
    rok = _published("ROK")
    for fmt, mime in (("csv", "text/csv"), ("xlsx", exports.XLSX_MIME)):
        resp = client.get(f"/plans/versions/{rok.id}/export.{fmt}")
        assert resp.status_code == 200 and resp.mimetype == mime
        assert resp.headers["Content-Disposition"] == f'attachment; filename="plan-ROK-v{rok.number}.{fmt}"'
    records = _csv_records(client.get(f"/plans/versions/{rok.id}/export.csv").data)
    assert records[0] == [c.header for c in imports.COLUMNS]
    assert len(records) == 1 + len(rok.items)
    first = dict(zip([c.key for c in imports.COLUMNS], records[1], strict=True))
    assert first["title"] == rok.items[0].title and first["category"] == rok.items[0].category.key
    assert first["launch_month"] == rok.items[0].launch_month.strftime("%Y-%m")


def test_superseded_versions_are_public(client, ctx):
    bir_plan = _published("BIR").plan
    old = next(v for v in bir_plan.versions if v.state == PlanState.SUPERSEDED)
    resp = client.get(f"/plans/versions/{old.id}/export.xlsx")
    assert resp.status_code == 200
    assert 'filename="plan-BIR-v1.xlsx"' in resp.headers["Content-Disposition"]


def test_drafts_only_for_the_municipality_and_the_region(client, as_user, ctx, rok_draft):
    _, draft = rok_draft
    url = f"/plans/versions/{draft.id}/export.csv"
    assert client.get(url).status_code == 404  # anonymous: drafts are not known to exist
    for email, status in (("seo@demo.srpp.lt", 403), ("officer.bir@demo.srpp.lt", 403),
                          ("officer.rok@demo.srpp.lt", 200), ("finance.rok@demo.srpp.lt", 200),
                          ("council@demo.srpp.lt", 200)):
        assert as_user(email).get(url).status_code == status, email
    assert client.get("/plans/versions/999999/export.csv").status_code == 404


def test_amounts_are_exact(ctx, rok_draft):
    officer, draft = rok_draft
    _add(ctx, officer, draft, title="Tikslumas", estimated_value=Decimal("100000.10"), quantity=Decimal("0.30"))
    ex = exports
    rows = list(ex.version_rows(draft))
    keys = [c.key for c in imports.COLUMNS]
    last = dict(zip(keys, rows[-1], strict=True))
    assert last["estimated_value"] == Decimal("100000.10")
    records = _csv_records(ex.version_csv(draft))
    assert dict(zip(keys, records[-1], strict=True))["estimated_value"] == "100000.10"
    assert dict(zip(keys, records[-1], strict=True))["quantity"] == "0.30"
    wb = openpyxl.load_workbook(io.BytesIO(ex.version_xlsx(draft)))
    ws = wb["Planas"]
    cell = ws.cell(row=ws.max_row, column=keys.index("estimated_value") + 1)
    assert cell.data_type == "n" and Decimal(repr(cell.value)) == Decimal("100000.1")
    assert cell.number_format == "#,##0.00"


DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3", "@SUM(A1)", "'=already quoted"]


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("'=x", "''=x"), ("'quoted", "'quoted"), ("a=b", "a=b"), ("<script>", "<script>"), ("", ""),
])
def test_neutralise_and_the_import_undoes_it(text, written):
    assert exports.neutralise(text) == written
    assert imports._unescape(written) == text


def test_formula_injection_is_neutralised(ctx, rok_draft):
    officer, draft = rok_draft
    for title in DANGEROUS:
        _add(ctx, officer, draft, title=title, notes_for_seos=title, unit="=cmd|' /C calc'!A0")
    _add(ctx, officer, draft, title="<script>alert(1)</script>", notes_for_seos="Ąžuolas – „šaltinis“")
    keys = [c.key for c in imports.COLUMNS]
    records = _csv_records(exports.version_csv(draft))
    by_title = {r[0]: dict(zip(keys, r, strict=True)) for r in records[1:]}
    for title in DANGEROUS:
        assert "'" + title in by_title, title
        assert by_title["'" + title]["notes_for_seos"] == "'" + title
        assert by_title["'" + title]["unit"] == "'=cmd|' /C calc'!A0"
    # not a formula character: written verbatim
    assert by_title["<script>alert(1)</script>"]["notes_for_seos"] == "Ąžuolas – „šaltinis“"
    # XLSX: the same text, stored as strings, never as formulas
    wb = openpyxl.load_workbook(io.BytesIO(exports.version_xlsx(draft)))
    cells = [c for r in wb["Planas"].iter_rows(min_row=2) for c in r if c.value is not None]
    assert cells and all(c.data_type in ("s", "n") for c in cells)
    values = {c.value for c in cells}
    assert "=HYPERLINK(\"http://evil.example\",\"x\")" in values and "<script>alert(1)</script>" in values
    xml = _sheet_xml(exports.version_xlsx(draft))
    assert "<f>" not in xml and "HYPERLINK" in xml


def _sheet_xml(data: bytes) -> str:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_to_the_same_items(ctx, rok_draft, fmt):
    """Export ROK's published version, import it into the draft: the same values, exactly."""
    officer, draft = rok_draft
    _add(ctx, officer, draft, title="=1+1 ir „Ąžuolas“", additional_cpv=["85311100-3"], quantity=Decimal("12.5"),
         unit="vietadienis", notes_for_seos="-- pastabos --", is_bundle=True, intended_lots=3)
    ctx.expire_all()
    draft = ctx.get(PlanVersion, draft.id)
    source = list(draft.items)
    data = exports.version_csv(draft) if fmt == "csv" else exports.version_xlsx(draft)
    n = imports.import_file(officer, draft, f"export.{fmt}", io.BytesIO(data))
    assert n == len(source)
    ctx.flush()
    ctx.expire_all()
    draft = ctx.get(PlanVersion, draft.id)
    copies = draft.items[len(source):]
    fields = ("title", "category_id", "main_cpv", "cpv_codes", "priority_area", "target_groups", "estimated_value",
              "quantity", "unit", "launch_month", "duration_months", "procedure", "reservation", "intended_lots",
              "funding_measure_id", "is_bundle", "notes_for_seos")
    for a, b in zip(source, copies, strict=True):
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}


def test_export_in_lithuanian_writes_taip_ne(as_user, ctx):
    client = as_user("officer.rok@demo.srpp.lt", lang="lt")
    rok = _published("ROK")
    records = _csv_records(client.get(f"/plans/versions/{rok.id}/export.csv").data)
    bundle = [c.key for c in imports.COLUMNS].index("is_bundle")
    assert {r[bundle] for r in records[1:]} <= {"taip", "ne"}
