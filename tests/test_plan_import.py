"""Import of plan items from CSV and XLSX: the template, every broken file of issue #3, and access."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.plans import imports, services
from srpp.plans.models import PlanItem, PlanVersion, ProcurementPlan
from srpp.rules.models import ReservationBasis

H = {c.key: c.header for c in imports.COLUMNS}
LT = {c.key: c.lt for c in imports.COLUMNS}
EN = {c.key: c.en for c in imports.COLUMNS}

BASE = {"title": "Demencijos dienos priežiūra Kamajuose", "category": "DEM_DAY", "main_cpv": "85312100-0",
        "estimated_value": "12 500,00", "launch_month": "2027-03", "duration_months": "12",
        "procedure": "simplified"}


def row(**over) -> dict:
    return {**BASE, **over}


def make_csv(rows: list[dict], headers: dict | None = None, delimiter: str = ",", bom: bool = False,
             columns: list[str] | None = None) -> bytes:
    headers = headers or H
    columns = columns or list(dict.fromkeys(k for r in rows for k in r)) or list(BASE)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([headers[k] for k in columns])
    for r in rows:
        w.writerow([r.get(k, "") for k in columns])
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def make_xlsx(rows: list[dict], sheet: str = "Planas", headers: dict | None = None,
              columns: list[str] | None = None) -> bytes:
    headers = headers or H
    columns = columns or list(dict.fromkeys(k for r in rows for k in r)) or list(BASE)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([headers[k] for k in columns])
    for r in rows:
        ws.append([r.get(k) for k in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def col(e: imports.RowError) -> str:
    """The column header of an error without the column letter."""
    return e.column.rsplit(" (", 1)[0]


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


@pytest.fixture()
def rok_draft(ctx):
    """A draft version 2 of Rokiškis' demo plan (period 2026-10 – 2027-09), with the 10 copied items."""
    from srpp.orgs.services import municipality_by_code

    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    plan = ctx.scalar(select(ProcurementPlan).where(
        ProcurementPlan.municipality_id == municipality_by_code("ROK").id))
    draft = services.start_new_version(officer, plan)
    ctx.flush()
    return draft


def count(ctx, version_id: int) -> int:
    ctx.expire_all()
    return ctx.scalar(select(func.count()).select_from(PlanItem).where(PlanItem.plan_version_id == version_id))


def items(ctx, version_id: int) -> list[PlanItem]:
    ctx.expire_all()
    return list(ctx.scalars(select(PlanItem).where(PlanItem.plan_version_id == version_id)
                            .order_by(PlanItem.position)))


def upload(client, version_id: int, data: bytes, name: str):
    return client.post(f"/plans/versions/{version_id}/import",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def service_import(ctx, version, data: bytes, name: str) -> int:
    officer = _user(ctx, "officer.rok@demo.srpp.lt")
    return imports.import_file(officer, version, name, io.BytesIO(data))


def refused(ctx, version, data: bytes, name: str) -> list[imports.RowError]:
    before = count(ctx, version.id)
    with pytest.raises(imports.ImportRefused) as exc:
        service_import(ctx, version, data, name)
    assert count(ctx, version.id) == before, "a refused file must import nothing"
    return exc.value.errors


# --- the template ------------------------------------------------------------------------------

def test_xlsx_template_has_bilingual_headers_and_help(client):
    resp = client.get("/plans/import-template.xlsx")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames[0] == "Planas" and len(wb.sheetnames) == 2
    header = [c.value for c in wb["Planas"][1]]
    assert header == [c.header for c in imports.COLUMNS]
    assert "Pavadinimas / Title" in header and all(" / " in h for h in header)
    assert wb["Planas"].max_row == 1
    help_text = " ".join(str(c.value) for r in wb[wb.sheetnames[1]].iter_rows() for c in r if c.value)
    for expected in ("DEM_DAY", "light_regime", "call_off", "res-pub-ser", "lt-23-1-5", "MUNICIPAL",
                     "LT025-07-01-03", "YYYY-MM", "CROSS_CUTTING"):
        assert expected in help_text


def test_csv_template_header_and_explanation_row(client):
    resp = client.get("/plans/import-template.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == [c.header for c in imports.COLUMNS]
    assert len(records) == 2 and not any(line.startswith("#") for line in text.splitlines())
    explanation = dict(zip([c.key for c in imports.COLUMNS], records[1], strict=True))
    assert "DEM_DAY" in explanation["category"] and "call_off" in explanation["procedure"]
    assert "res-ws" in explanation["reservation"] and "MUNICIPAL" in explanation["funding"]
    assert "YYYY-MM" in explanation["launch_month"]


def test_xlsx_template_round_trip(as_user, ctx, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt")
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/plans/import-template.xlsx").data))
    ws = wb["Planas"]
    keys = [imports.column_for_header(c.value) for c in ws[1]]
    values = [
        {"title": "Dienos centras Kamajuose", "category": "SENIOR_DC", "main_cpv": "85312100-0",
         "estimated_value": 12500.5, "launch_month": "2027-02", "duration_months": 12, "procedure": "simplified",
         "reservation": "res-pub-ser", "funding": "MUNICIPAL", "is_bundle": "ne", "quantity": 300,
         "unit": "vietadienis", "intended_lots": 2, "notes_for_seos": "Tinka NVO"},
        {"title": "Transportas pagal poreikį Pandėlyje", "category": "DRT", "main_cpv": "60140000-1",
         "additional_cpv": "60130000-8", "estimated_value": "1 234,50", "launch_month": "2027-04",
         "duration_months": "24", "procedure": "open", "is_bundle": "taip"},
    ]
    for v in values:
        ws.append([v.get(k) for k in keys])
    buf = io.BytesIO()
    wb.save(buf)
    before = count(ctx, rok_draft.id)
    resp = upload(client, rok_draft.id, buf.getvalue(), "planas.xlsx")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"].endswith(f"/plans/versions/{rok_draft.id}")
    assert "2 items were imported" in client.get(resp.headers["Location"]).get_data(as_text=True)
    new = items(ctx, rok_draft.id)[before:]
    assert [i.title for i in new] == [v["title"] for v in values]
    a, b = new
    assert a.estimated_value == Decimal("12500.50") and a.reservation == ReservationBasis.EU_ART77
    assert a.intended_lots == 2 and a.quantity == Decimal("300") and a.funding_measure.code == "MUNICIPAL"
    assert a.target_groups  # the category's default
    assert b.estimated_value == Decimal("1234.50") and b.is_bundle and b.cpv_codes == ["60140000-1", "60130000-8"]
    assert b.launch_month.isoformat() == "2027-04-01"


def test_csv_template_round_trip_keeps_working_with_the_explanation_row(as_user, ctx, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt")
    text = client.get("/plans/import-template.csv").data.decode("utf-8-sig")
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    for record in csv.reader(io.StringIO(text)):
        w.writerow(record)
    keys = [imports.column_for_header(h) for h in next(csv.reader(io.StringIO(text)))]
    w.writerow([row(title="Socialinės dirbtuvės Obeliuose").get(k, "") for k in keys])
    before = count(ctx, rok_draft.id)
    resp = upload(client, rok_draft.id, ("\ufeff" + buf.getvalue()).encode(), "template.csv")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert count(ctx, rok_draft.id) == before + 1


# --- headers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [H, LT, EN, {k: v.upper().replace(" ", "  ") for k, v in EN.items()},
                                     {k: f"{EN[k]} / {LT[k]}" for k in H}])
def test_headers_in_either_language_any_order(ctx, rok_draft, headers):
    columns = list(reversed(list(BASE)))
    before = count(ctx, rok_draft.id)
    assert service_import(ctx, rok_draft, make_csv([row()], headers, columns=columns), "a.csv") == 1
    assert count(ctx, rok_draft.id) == before + 1


def test_unknown_and_missing_columns_are_named(ctx, rok_draft):
    data = make_csv([{**row(), "colour": "blue"}], headers={**H, "colour": "Spalva"})
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert len(errors) == 1 and "Spalva" in errors[0].message and "Unknown columns" in errors[0].message
    data = make_csv([{k: v for k, v in row().items() if k != "procedure"}])
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert "Required columns are missing" in errors[0].message and H["procedure"] in errors[0].message


# --- broken files ------------------------------------------------------------------------------

def test_one_bad_row_imports_nothing_and_names_row_and_column(ctx, rok_draft):
    data = make_csv([row(title="Pirma"), row(title="Antra", estimated_value="daug"), row(title="Trečia")])
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert [(e.row, e.column) for e in errors] == [(3, f"{H['estimated_value']} (D)")]
    assert "Write a number" in errors[0].message and errors[0].title == "Antra"


def test_every_wrong_row_is_reported(ctx, rok_draft):
    data = make_csv([row(title=""), row(category="NOPE"), row(procedure="cheap", duration_months="0"), row()])
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert {(e.row, col(e)) for e in errors} == {
        (2, H["title"]), (3, H["category"]), (4, H["procedure"]), (4, H["duration_months"])}


def test_bad_cpv(ctx, rok_draft):
    errors = refused(ctx, rok_draft, make_csv([row(), row(main_cpv="85312100-1"),
                                               row(additional_cpv="99999999-9; 85311100-3")]), "a.csv")
    assert [(e.row, col(e)) for e in errors] == [(3, H["main_cpv"]), (4, H["additional_cpv"])]
    assert "85312100-1" in errors[0].message and "CPV" in errors[0].message
    assert "99999999-9" in errors[1].message


def test_cpv_without_check_digit_is_completed(ctx, rok_draft):
    service_import(ctx, rok_draft, make_csv([row(main_cpv="85312100", additional_cpv="85311100")]), "a.csv")
    assert items(ctx, rok_draft.id)[-1].cpv_codes == ["85312100-0", "85311100-3"]


def test_launch_month_outside_the_period(ctx, rok_draft):
    errors = refused(ctx, rok_draft, make_csv([row(launch_month="2027-10"), row(launch_month="2026-09"),
                                               row(launch_month="kovas")]), "a.csv")
    assert [(e.row, col(e)) for e in errors] == [(2, H["launch_month"])] * 1 + [
        (3, H["launch_month"]), (4, H["launch_month"])]
    assert "2026-10 – 2027-09" in errors[0].message and "YYYY-MM" in errors[2].message


def test_art77_with_a_cpv_not_on_the_list(ctx, rok_draft):
    data = make_csv([row(category="DRT", main_cpv="60140000-1", reservation="res-pub-ser"),
                     row(reservation="res-pub-ser", duration_months="48")])
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert [(e.row, col(e)) for e in errors] == [(2, H["reservation"]), (3, H["reservation"])]
    assert "60140000-1" in errors[0].message and "Art. 77" in errors[0].message
    assert "36 months" in errors[1].message


def test_xlsx_with_a_formula_is_refused(ctx, rok_draft):
    data = make_xlsx([row(estimated_value=1000), row(title="Su formule", estimated_value="=1000*2")])
    errors = refused(ctx, rok_draft, data, "a.xlsx")
    assert len(errors) == 1
    assert (errors[0].row, errors[0].column) == (3, f"{H['estimated_value']} (D)")
    assert "formula" in errors[0].message and "=1000*2" in errors[0].message


def test_a_row_of_formulas_is_not_taken_for_an_empty_row(ctx, rok_draft):
    data = make_xlsx([row(), {k: None for k in BASE} | {"title": "=A2"}])
    errors = refused(ctx, rok_draft, data, "a.xlsx")
    assert errors[0].row == 3 and "formula" in errors[0].message


def _put(ws, n: int, values: list) -> None:
    for c, v in enumerate(values, start=1):
        ws.cell(row=n, column=c, value=v)


def test_empty_rows_are_skipped_and_rows_keep_their_numbers(ctx, rok_draft):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Planas"
    _put(ws, 1, [H[k] for k in BASE])
    _put(ws, 2, list(row(title="Pirma").values()))
    _put(ws, 4, [None, "  ", None])  # row 3 missing entirely, row 4 only blanks
    _put(ws, 5, list(row(title="Antra").values()))
    _put(ws, 9, list(row(title="Trečia", estimated_value="x").values()))
    buf = io.BytesIO()
    wb.save(buf)
    errors = refused(ctx, rok_draft, buf.getvalue(), "a.xlsx")
    assert [(e.row, e.title) for e in errors] == [(9, "Trečia")]
    ws.delete_rows(9)
    buf = io.BytesIO()
    wb.save(buf)
    assert service_import(ctx, rok_draft, buf.getvalue(), "a.xlsx") == 2
    head, first = make_csv([row(title="A")]).rstrip(b"\r\n").split(b"\r\n")
    second = make_csv([row(title="B", estimated_value="?")]).rstrip(b"\r\n").split(b"\r\n")[1]
    data = b"\r\n".join([head, first, b"", b",,,,,,", b" ", second]) + b"\r\n"
    errors = refused(ctx, rok_draft, data, "a.csv")
    assert [e.row for e in errors] == [6]
    assert service_import(ctx, rok_draft, data.replace(b"?", b"100"), "a.csv") == 2


def test_wrong_sheet_or_no_header(ctx, rok_draft):
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["Dienos centras", "DEM_DAY", "85312100-0", 1000])
    buf = io.BytesIO()
    wb.save(buf)
    errors = refused(ctx, rok_draft, buf.getvalue(), "a.xlsx")
    assert len(errors) == 1 and errors[0].row is None
    assert "Sheet1" in errors[0].message and "header" in errors[0].message and "Planas" in errors[0].message
    # the sheet named "Planas" is used even when it is not the first
    wb = openpyxl.load_workbook(io.BytesIO(make_xlsx([row()])))
    wb.create_sheet("Notes", 0).append(["nothing to see"])
    buf = io.BytesIO()
    wb.save(buf)
    assert service_import(ctx, rok_draft, buf.getvalue(), "a.xlsx") == 1
    errors = refused(ctx, rok_draft, b"just,some,words\r\n1,2,3\r\n", "a.csv")
    assert "header" in errors[0].message
    errors = refused(ctx, rok_draft, make_csv([]).split(b"\r\n")[0] + b"\r\n\r\n", "a.csv")
    assert "no items" in errors[0].message


def test_ten_thousand_rows(ctx, rok_draft, capsys):
    rows = [row(title=f"Paslauga Nr. {n} – Rokiškio rajonas", estimated_value=f"{1000 + n},50",
                launch_month=f"2027-0{1 + n % 9}") for n in range(10_000)]
    data = make_csv(rows)
    before = count(ctx, rok_draft.id)
    start = time.perf_counter()
    assert service_import(ctx, rok_draft, data, "big.csv") == 10_000
    ctx.flush()
    elapsed = time.perf_counter() - start
    assert count(ctx, rok_draft.id) == before + 10_000
    with capsys.disabled():
        print(f"\n10 000-row import: {elapsed:.1f} s ({len(data) / 1024:.0f} KiB)")
    # and one bad row among 10 000 refuses them all
    rows[7_777]["main_cpv"] = "12345678-9"
    errors = refused(ctx, rok_draft, make_csv(rows), "big.csv")
    assert [(e.row, col(e)) for e in errors] == [(7_779, H["main_cpv"])]


LT_TEXT = "Ąžuolų g. šeimynų paslaugos – „Čiurlionio“ ąčęėįšųūž ĄČĘĖĮŠŲŪŽ"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_lithuanian_characters_everywhere(ctx, rok_draft, kind):
    r = row(title=LT_TEXT, target_groups="Šeimos, auginančios vaikus su negalia; senjorai",
            unit="vietadienis (žm.)", notes_for_seos="Pastabos: įtraukti „Kūčių“ šventę, ūkininkų žūklė.",
            is_bundle="taip", funding="Savivaldybės biudžetas")
    data = make_csv([r], LT, bom=True) if kind == "csv" else make_xlsx([r], headers=LT)
    assert service_import(ctx, rok_draft, data, f"planas.{kind}") == 1
    item = items(ctx, rok_draft.id)[-1]
    assert item.title == LT_TEXT and item.target_groups.startswith("Šeimos")
    assert item.unit == "vietadienis (žm.)" and "„Kūčių“" in item.notes_for_seos and item.is_bundle
    assert item.funding_measure.code == "MUNICIPAL"


@pytest.mark.parametrize(("written", "expected"), [
    ("1 234,50", "1234.50"), ("1\u00a0234,50", "1234.50"), ("1\u202f234,50 €", "1234.50"), ("1234.50", "1234.50"),
    ("1234,50", "1234.50"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"), ("234 567", "234567"),
    ("75000", "75000"), (1234.5, "1234.50"), (75000, "75000"),
])
def test_amounts_as_people_write_them(ctx, rok_draft, written, expected):
    data = make_xlsx([row(estimated_value=written)]) if not isinstance(written, str) else make_csv(
        [row(estimated_value=written)], delimiter=";")
    service_import(ctx, rok_draft, data, "a.xlsx" if not isinstance(written, str) else "a.csv")
    assert items(ctx, rok_draft.id)[-1].estimated_value == Decimal(expected)


@pytest.mark.parametrize("written", ["12,345,6", "1.2.3,4,5", "12e3", "1 234,567", "-", "0", "-5"])
def test_amounts_refused(ctx, rok_draft, written):
    errors = refused(ctx, rok_draft, make_csv([row(estimated_value=written)], delimiter=";"), "a.csv")
    assert errors[0].column.startswith(H["estimated_value"])


def test_month_as_a_date_cell_and_semicolon_csv_with_bom(ctx, rok_draft):
    import datetime as dt

    service_import(ctx, rok_draft, make_xlsx([row(launch_month=dt.datetime(2027, 5, 17))]), "a.xlsx")
    assert items(ctx, rok_draft.id)[-1].launch_month == dt.date(2027, 5, 1)
    service_import(ctx, rok_draft, make_csv([row(launch_month="2027-06-01")], delimiter=";", bom=True), "a.csv")
    assert items(ctx, rok_draft.id)[-1].launch_month == dt.date(2027, 6, 1)


# --- the page ----------------------------------------------------------------------------------

def test_error_page_lists_row_column_message_and_escapes(as_user, ctx, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt")
    before = count(ctx, rok_draft.id)
    data = make_csv([row(title="<script>alert(1)</script>", estimated_value="abc")])
    resp = upload(client, rok_draft.id, data, "a.csv")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "nothing was imported" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert '<th scope="col" class="num">Row</th>' in page and H["estimated_value"] in page
    assert count(ctx, rok_draft.id) == before


def test_error_page_in_lithuanian(as_user, ctx, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt", lang="lt")
    resp = upload(client, rok_draft.id, make_csv([row(launch_month="2030-01")]), "a.csv")
    assert resp.status_code == 200
    assert '<html lang="lt">' in resp.get_data(as_text=True)


def test_oversize_upload_is_refused_before_parsing(as_user, ctx, rok_draft, monkeypatch):
    client = as_user("officer.rok@demo.srpp.lt")
    before = count(ctx, rok_draft.id)
    parsed = []
    monkeypatch.setattr(imports, "open_upload", lambda *a: parsed.append(1))
    big = make_csv([row()]) + b"x" * (imports.MAX_UPLOAD_BYTES + 10)
    page = upload(client, rok_draft.id, big, "a.csv").get_data(as_text=True)
    assert "larger than 5 MB" in page and count(ctx, rok_draft.id) == before and not parsed


def test_upload_over_max_content_length_gets_413(app, as_user, ctx, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt")
    huge = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert upload(client, rok_draft.id, huge, "a.csv").status_code == 413


def test_file_that_is_not_what_it_claims(ctx, rok_draft):
    errors = refused(ctx, rok_draft, make_csv([row()]), "plan.xlsx")
    assert "not a real .xlsx" in errors[0].message
    errors = refused(ctx, rok_draft, make_xlsx([row()]), "plan.csv")
    assert "not a CSV" in errors[0].message
    errors = refused(ctx, rok_draft, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "plan.xls")
    assert ".xls" in errors[0].message
    errors = refused(ctx, rok_draft, "Pavadinimas;Kaina\ną;1\n".encode("cp1257"), "plan.csv")
    assert "UTF-8" in errors[0].message
    errors = refused(ctx, rok_draft, b"%PDF-1.4", "plan.pdf")
    assert ".csv or .xlsx" in errors[0].message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    errors = refused(ctx, rok_draft, buf.getvalue(), "plan.xlsx")
    assert "not a real .xlsx" in errors[0].message


def test_unusual_compression_is_refused_before_reading(ctx, rok_draft, monkeypatch):
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_BZIP2) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    errors = refused(ctx, rok_draft, buf.getvalue(), "plan.xlsx")
    assert "not a real .xlsx" in errors[0].message and not opened


def test_zip_bomb_is_refused_before_opening(ctx, rok_draft, monkeypatch):
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(imports.MAX_UNCOMPRESSED_BYTES // len(chunk) + 1):
                fh.write(chunk)
    data = buf.getvalue()
    assert len(data) < imports.MAX_UPLOAD_BYTES
    errors = refused(ctx, rok_draft, data, "bomb.xlsx")
    assert "refused before reading" in errors[0].message and not opened


def _with_member(xlsx: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(name, content)
    return out.getvalue()


def test_damaged_workbook_is_refused(ctx, rok_draft):
    good = make_xlsx([row()])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]  # cut in the middle of the sheet
            dst.writestr(info, content)
    errors = refused(ctx, rok_draft, out.getvalue(), "a.xlsx")
    assert "cannot be read" in errors[0].message
    # damaged compressed bytes (bad CRC / broken deflate stream)
    raw = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 5, start + info.compress_size - 5):
        raw[i] ^= 0x5A
    errors = refused(ctx, rok_draft, bytes(raw), "a.xlsx")
    assert "damaged" in errors[0].message or "cannot be read" in errors[0].message


def test_external_links_and_entities_are_refused(ctx, rok_draft):
    data = _with_member(make_xlsx([row()]), "xl/externalLinks/externalLink1.xml", b"<externalLink/>")
    errors = refused(ctx, rok_draft, data, "a.xlsx")
    assert "external links" in errors[0].message
    data = _with_member(make_xlsx([row()]), "xl/extra.xml",
                        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    errors = refused(ctx, rok_draft, data, "a.xlsx")
    assert "not allowed" in errors[0].message


def test_officer_of_another_municipality_gets_403(as_user, ctx, rok_draft):
    client = as_user("officer.bir@demo.srpp.lt")
    before = count(ctx, rok_draft.id)
    assert client.get(f"/plans/versions/{rok_draft.id}/import").status_code == 403
    assert upload(client, rok_draft.id, make_csv([row()]), "a.csv").status_code == 403
    assert count(ctx, rok_draft.id) == before
    with pytest.raises(Exception) as exc:
        imports.import_file(_user(ctx, "officer.bir@demo.srpp.lt"), rok_draft, "a.csv", io.BytesIO(b""))
    assert getattr(exc.value, "code", None) == 403


def test_published_version_is_refused(as_user, ctx, rok_draft):
    from srpp.orgs.services import municipality_by_code

    published = services.current_published(municipality_by_code("ROK"))
    client = as_user("officer.rok@demo.srpp.lt")
    page = client.get(f"/plans/versions/{published.id}/import")
    assert page.status_code == 200 and "can only be imported into a draft" in page.get_data(as_text=True)
    assert 'type="file"' not in page.get_data(as_text=True)
    before = count(ctx, published.id)
    resp = upload(client, published.id, make_csv([row()]), "a.csv")
    assert resp.status_code == 200 and "can only be imported into a draft" in resp.get_data(as_text=True)
    assert count(ctx, published.id) == before
    with pytest.raises(Exception, match="draft"):
        service_import(ctx, ctx.get(PlanVersion, published.id), make_csv([row()]), "a.csv")


def test_import_page_for_the_draft(as_user, rok_draft):
    client = as_user("officer.rok@demo.srpp.lt")
    page = client.get(f"/plans/versions/{rok_draft.id}/import").get_data(as_text=True)
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    assert "/plans/import-template.xlsx" in page and "DEM_DAY" in page
    resp = client.post(f"/plans/versions/{rok_draft.id}/import", data={}, content_type="multipart/form-data")
    assert resp.status_code == 200 and "Choose a CSV or XLSX file" in resp.get_data(as_text=True)


def test_a_failure_in_the_middle_leaves_nothing(as_user, ctx, rok_draft, monkeypatch):
    """The database refuses row 3 while writing (the rule check is switched off to get there)."""
    client = as_user("officer.rok@demo.srpp.lt")
    before = count(ctx, rok_draft.id)
    monkeypatch.setattr(services, "check_item", lambda *a, **k: [])
    rows = [row(title=f"T{n}") for n in range(5)]
    rows[2]["intended_lots"] = "0"  # violates the lots_positive constraint
    resp = upload(client, rok_draft.id, make_csv(rows), "a.csv")
    assert resp.status_code == 500
    assert count(ctx, rok_draft.id) == before
