"""Import of invoices and payments from the municipal finance system (CSV and XLSX): matching by
supplier code and invoice number, idempotency, all-or-nothing with row-level errors, and access."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from srpp.auth.models import User
from srpp.contracts import services as contracts
from srpp.contracts.models import MilestoneTrigger
from srpp.core.errors import DomainError
from srpp.core.permissions import PermissionDenied
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code
from srpp.payments import imports, services
from srpp.payments.models import Invoice, Payment

TODAY = dt.date.today()
JAUTRI = "990000001"
FINANCE = "finance.rok@demo.srpp.lt"
H = {c.key: c.header for c in imports.COLUMNS}
EN = {c.key: c.en for c in imports.COLUMNS}


def day(n: int) -> dt.date:
    """n days before today."""
    return TODAY - dt.timedelta(days=n)


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code: str) -> Supplier:
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


@pytest.fixture()
def contract(ctx):
    """A ROK contract with VšĮ "Jautri širdis" (reference SUT-IMP-1), two milestones, 30-day term."""
    finance = _user(ctx, FINANCE)
    c = contracts.create_contract(finance, contracts.ContractInput(
        municipality_id=municipality_by_code("ROK").id, supplier_id=_supplier(ctx, JAUTRI).id,
        title="Dienos centro paslaugos (importo testas)", value=Decimal("12000.00"), start_date=day(300),
        end_date=TODAY + dt.timedelta(days=60), main_cpv="85312100-0"),
        contracts.TermsInput(reference="SUT-IMP-1"))
    contracts.set_schedule(finance, c, [
        contracts.MilestoneInput("Pirmasis etapas", MilestoneTrigger.SIGNING, share_percent=Decimal(50)),
        contracts.MilestoneInput("Antrasis etapas", MilestoneTrigger.OTHER, share_percent=Decimal(50),
                                 trigger_description="Paslaugų pabaiga", trigger_date=TODAY + dt.timedelta(days=60)),
    ])
    ctx.flush()
    return c


def inv_row(number: str, amount: str = "1 210,00", received: dt.date | None = None, **more) -> dict:
    return {"supplier_code": JAUTRI, "invoice_number": number, "contract_reference": "SUT-IMP-1",
            "amount": amount, "received_on": (received or day(90)).isoformat(), "e_invoice_ref": f"E-{number}",
            **more}


def good_rows() -> list[dict]:
    """T-1 paid in two parts (the second late), T-2 unpaid, T-3 paid on time with a reference."""
    return [
        inv_row("IMP-T-1", milestone="1", paid_on=day(80).isoformat(), paid_amount="600,00"),
        inv_row("IMP-T-1", paid_on=day(20).isoformat(), paid_amount="610"),
        inv_row("IMP-T-2", "500.00", day(40)),
        inv_row("IMP-T-3", "99.99", day(70), paid_on=day(60).isoformat(), paid_amount="99.99",
                payment_reference="MP-2026-0815"),
    ]


def make_csv(rows: list[dict], headers: dict | None = None, delimiter: str = ",") -> bytes:
    headers = headers or H
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([headers[k] for k in columns])
    for r in rows:
        w.writerow([r.get(k, "") for k in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def make_xlsx(rows: list[dict]) -> bytes:
    """Dates as date cells and amounts as number cells, as a finance system's export has them."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Export"
    ws.append([H[k] for k in columns])
    for r in rows:
        out = []
        for k in columns:
            v = r.get(k)
            try:
                if v and k in ("received_on", "paid_on", "accepted_on"):
                    v = dt.date.fromisoformat(v)
                elif v and k in ("amount", "paid_amount"):
                    v = float(v.replace(" ", "").replace(",", "."))
            except ValueError:
                pass  # a text cell, as written
            out.append(v)
        ws.append(out)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(ctx, data: bytes, name: str, email: str = FINANCE, code: str = "ROK") -> imports.ImportSummary:
    return imports.import_file(_user(ctx, email), municipality_by_code(code), name, io.BytesIO(data))


def counts(ctx, contract) -> tuple[int, int]:
    ctx.expire_all()
    invoices = ctx.scalar(select(func.count()).select_from(Invoice).where(Invoice.contract_id == contract.id))
    payments = ctx.scalar(select(func.count()).select_from(Payment).join(Invoice)
                          .where(Invoice.contract_id == contract.id))
    return invoices, payments


def invoice(ctx, number: str) -> Invoice:
    return ctx.scalar(select(Invoice).where(Invoice.number == number))


def figures(ctx, contract) -> list[tuple]:
    ctx.expire_all()
    return [(i.number, i.amount, i.paid_amount, i.state, i.days_late, i.interest, i.compensation,
             tuple((p.paid_on, p.amount, p.reference) for p in i.payments))
            for i in ctx.scalars(select(Invoice).where(Invoice.contract_id == contract.id).order_by(Invoice.number))]


def refused(ctx, contract, data: bytes, name: str, **kw) -> list[imports.RowError]:
    before = counts(ctx, contract)
    with pytest.raises(imports.ImportRefused) as exc:
        run(ctx, data, name, **kw)
    assert counts(ctx, contract) == before, "a refused file must import nothing"
    return exc.value.errors


def col(e: imports.RowError) -> str:
    """The column header of an error without the column letter."""
    return (e.column or "").rsplit(" (", 1)[0]


# --- the happy path and idempotency ---------------------------------------------------------------------

def test_csv_import_records_invoices_and_payments_then_a_second_run_adds_nothing(ctx, contract):
    data = make_csv(good_rows())
    summary = run(ctx, data, "export.csv")
    assert (summary.rows, summary.invoices_added, summary.invoices_matched, summary.payments_added,
            summary.payments_existing) == (4, 3, 0, 3, 0)
    assert counts(ctx, contract) == (3, 3)

    t1, t2, t3 = invoice(ctx, "IMP-T-1"), invoice(ctx, "IMP-T-2"), invoice(ctx, "IMP-T-3")
    assert t1.source == "import" and t1.amount == Decimal("1210.00") and t1.e_invoice_ref == "E-IMP-T-1"
    assert t1.milestone_id == contract.milestones[0].id and t1.received_on == day(90)
    assert [(p.paid_on, p.amount, p.reference) for p in t1.payments] == [
        (day(80), Decimal("600.00"), f"IMP-T-1/{day(80).isoformat()}/600.00"),
        (day(20), Decimal("610.00"), f"IMP-T-1/{day(20).isoformat()}/610.00")]
    assert all(p.source == "import" for p in t1.payments)
    # the figures are the services' own: T-1 was completed 70 days after receipt, late, with interest
    assert t1.paid_on == day(20) and t1.days_late > 0 and t1.interest > 0 and t1.compensation == Decimal(40)
    assert t2.paid_amount == 0 and t2.paid_on is None
    assert [p.reference for p in t3.payments] == ["MP-2026-0815"] and t3.days_late == 0
    before = figures(ctx, contract)

    again = run(ctx, data, "export.csv")
    assert (again.invoices_added, again.invoices_matched, again.payments_added, again.payments_existing) == (0, 3, 0, 3)
    assert not again.changed
    assert figures(ctx, contract) == before


def test_xlsx_works_the_same_and_matches_what_the_csv_recorded(ctx, contract):
    summary = run(ctx, make_xlsx(good_rows()), "export.xlsx")
    assert (summary.invoices_added, summary.payments_added) == (3, 3)
    recorded = figures(ctx, contract)
    assert recorded[0][7][1] == (day(20), Decimal("610.00"), f"IMP-T-1/{day(20).isoformat()}/610.00")
    again = run(ctx, make_xlsx(good_rows()), "export.xlsx")
    assert (again.invoices_added, again.payments_added, again.payments_existing) == (0, 0, 3)
    # the CSV export of the same data is the same import: nothing to add either
    csv_run = run(ctx, make_csv(good_rows()), "export.csv")
    assert (csv_run.invoices_added, csv_run.payments_added, csv_run.invoices_matched) == (0, 0, 3)
    assert figures(ctx, contract) == recorded


def test_a_later_export_adds_only_the_new_payment(ctx, contract):
    run(ctx, make_csv(good_rows()), "march.csv")
    later = [*good_rows(), inv_row("IMP-T-2", "500.00", day(40), paid_on=day(5).isoformat(), paid_amount="500")]
    summary = run(ctx, make_csv(later), "april.csv")
    assert (summary.invoices_added, summary.invoices_matched, summary.payments_added, summary.payments_existing) == (
        0, 3, 1, 3)
    t2 = invoice(ctx, "IMP-T-2")
    assert t2.paid_amount == Decimal("500.00") and t2.paid_on == day(5)


def test_a_payment_entered_by_hand_is_not_imported_again(ctx, contract):
    finance = _user(ctx, FINANCE)
    inv = services.record_invoice(finance, contract, services.InvoiceInput("IMP-H-1", Decimal("300.00"), day(50),
                                                                           "E-H-1"))
    services.record_payment(finance, inv, day(30), Decimal("100.00"))  # no reference
    rows = [inv_row("IMP-H-1", "300", day(50), paid_on=day(30).isoformat(), paid_amount="100,00"),
            inv_row("IMP-H-1", "300", day(50), paid_on=day(30).isoformat(), paid_amount="100,00",
                    payment_reference="BANK-77")]
    summary = run(ctx, make_csv(rows), "export.csv")
    assert (summary.invoices_matched, summary.payments_added, summary.payments_existing) == (1, 0, 2)
    assert counts(ctx, contract) == (1, 1)


def test_contract_by_id_and_acceptance(ctx, contract):
    row = inv_row("IMP-A-1", "250", day(30), accepted_on=day(25).isoformat(), contract_id=str(contract.id))
    del row["contract_reference"]
    summary = run(ctx, make_csv([row]), "export.csv")
    assert (summary.invoices_added, summary.acceptances) == (1, 1)
    assert invoice(ctx, "IMP-A-1").accepted_on == day(25)
    assert run(ctx, make_csv([row]), "export.csv").acceptances == 0


def test_headers_in_english_keys_and_semicolons(ctx, contract):
    keys = {k: k for k in H}
    assert run(ctx, make_csv(good_rows(), keys, ";"), "keys.csv").invoices_added == 3
    assert run(ctx, make_csv(good_rows(), EN), "english.csv").invoices_matched == 3


# --- one bad row: nothing is imported ------------------------------------------------------------------

BAD_ROWS = [
    ("payment larger than the invoice",
     inv_row("IMP-B-1", "100", day(30), paid_on=day(10).isoformat(), paid_amount="100.01"),
     "paid_amount", "larger than the amount outstanding"),
    ("unknown supplier", {**inv_row("IMP-B-2"), "supplier_code": "123456789"},
     "supplier_code", "Unknown supplier code 123456789"),
    ("payment before the invoice",
     inv_row("IMP-B-3", "100", day(30), paid_on=day(31).isoformat(), paid_amount="100"),
     "paid_on", "cannot be made before its invoice was received"),
    ("three decimals", inv_row("IMP-B-4", "100.005"), "amount", "at most two decimals"),
    ("a day that does not exist", inv_row("IMP-B-5", received=None) | {"received_on": "2026-02-30"},
     "received_on", "no such day"),
    ("no e-invoice reference", inv_row("IMP-B-6") | {"e_invoice_ref": ""}, "e_invoice_ref", "e-invoice"),
    ("received in the future", inv_row("IMP-B-7", received=TODAY + dt.timedelta(days=1)), "received_on",
     "future"),
    ("unknown contract reference", inv_row("IMP-B-8") | {"contract_reference": "NO-SUCH"}, "contract_reference",
     "no contract of"),
    ("milestone the contract lacks", inv_row("IMP-B-9", milestone="7"), "milestone", "no payment milestone 7"),
    ("a paid amount without a date", inv_row("IMP-B-10", paid_amount="10"), "paid_on", "Give the payment date"),
]


@pytest.mark.parametrize(("bad", "column", "message"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS])
def test_one_bad_row_imports_nothing_and_names_row_column_and_problem(ctx, contract, bad, column, message):
    rows = [*good_rows(), bad]
    for name, data in (("export.csv", make_csv(rows)), ("export.xlsx", make_xlsx(rows))):
        errors = refused(ctx, contract, data, name)
        assert [(e.row, col(e)) for e in errors] == [(6, H[column])], errors
        assert message.casefold() in errors[0].message.casefold()
        assert errors[0].title.endswith(bad["invoice_number"])


def test_recorded_invoice_with_another_amount_is_refused(ctx, contract):
    run(ctx, make_csv(good_rows()), "export.csv")
    rows = [inv_row("IMP-T-9", "10"), inv_row("IMP-T-2", "501.00", day(40))]
    errors = refused(ctx, contract, make_csv(rows), "export.csv")
    assert [(e.row, col(e)) for e in errors] == [(3, H["amount"])]
    assert "IMP-T-2 is recorded with the amount €500.00; this row says €501.00" in errors[0].message
    assert invoice(ctx, "IMP-T-9") is None


def test_the_same_invoice_twice_in_a_file_with_different_amounts(ctx, contract):
    rows = [inv_row("IMP-D-1", "100"), inv_row("IMP-D-1", "120")]
    errors = refused(ctx, contract, make_csv(rows), "export.csv")
    assert [(e.row, col(e)) for e in errors] == [(3, H["amount"])]
    assert "in row 2" in errors[0].message


def test_payments_are_checked_against_the_rows_above(ctx, contract):
    """Two payments that each fit but together exceed the invoice: the second row is refused."""
    rows = [inv_row("IMP-P-1", "100", day(30), paid_on=day(20).isoformat(), paid_amount="60"),
            inv_row("IMP-P-1", "100", day(30), paid_on=day(10).isoformat(), paid_amount="60")]
    errors = refused(ctx, contract, make_csv(rows), "export.csv")
    assert [(e.row, col(e)) for e in errors] == [(3, H["paid_amount"])]
    assert "larger than the amount outstanding (40.00)" in errors[0].message


def test_a_payment_reference_reused_for_another_payment_is_refused(ctx, contract):
    run(ctx, make_csv(good_rows()), "export.csv")
    rows = [inv_row("IMP-T-3", "99.99", day(70), paid_on=day(59).isoformat(), paid_amount="99.99",
                    payment_reference="MP-2026-0815")]
    errors = refused(ctx, contract, make_csv(rows), "export.csv")
    assert col(errors[0]) == H["payment_reference"] and "MP-2026-0815" in errors[0].message


def test_every_bad_row_is_reported(ctx, contract):
    rows = [inv_row("IMP-E-1", "abc"), inv_row("IMP-E-2"), {**inv_row("IMP-E-3"), "supplier_code": "1"}]
    errors = refused(ctx, contract, make_csv(rows), "export.csv")
    assert [(e.row, col(e)) for e in errors] == [(2, H["amount"]), (4, H["supplier_code"])]


def test_a_failure_while_writing_leaves_nothing(ctx, contract, monkeypatch):
    """A refusal the check did not foresee, in the middle of writing: everything of the file is undone."""
    real = services.record_payment
    calls = []

    def failing(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise DomainError("the bank is closed")
        return real(*args, **kw)

    monkeypatch.setattr(services, "record_payment", failing)
    errors = refused(ctx, contract, make_csv(good_rows()), "export.csv")
    assert (errors[0].row, errors[0].message) == (3, "the bank is closed")
    assert invoice(ctx, "IMP-T-1") is None


# --- the file itself -------------------------------------------------------------------------------------

def test_missing_and_unknown_columns_are_named(ctx, contract):
    data = make_csv([{k: v for k, v in inv_row("IMP-C-1").items() if k != "amount"} | {"colour": "red"}],
                    {**H, "colour": "Colour"})
    messages = " ".join(e.message for e in refused(ctx, contract, data, "export.csv"))
    assert "Unknown columns: Colour" in messages and H["amount"] in messages


def test_xlsx_formula_is_refused(ctx, contract):
    wb = openpyxl.load_workbook(io.BytesIO(make_xlsx([inv_row("IMP-F-1")])))
    wb.active["D2"] = "=1000+210"
    buf = io.BytesIO()
    wb.save(buf)
    errors = refused(ctx, contract, buf.getvalue(), "export.xlsx")
    assert [(e.row, col(e)) for e in errors] == [(2, H["amount"])] and "formula" in errors[0].message


def test_xlsx_that_is_not_a_workbook_is_refused_by_the_plan_import_guards(ctx, contract):
    errors = refused(ctx, contract, b"PK\x03\x04 not really a zip", "export.xlsx")
    assert "not a real .xlsx" in errors[0].message
    errors = refused(ctx, contract, make_csv(good_rows()), "export.xls")
    assert ".xls" in errors[0].message


def test_oversize_file_is_refused_before_reading(ctx, contract):
    finance = _user(ctx, FINANCE)
    with pytest.raises(imports.ImportRefused) as exc:
        imports.import_file(finance, municipality_by_code("ROK"), "big.csv", io.BytesIO(b"x" * 2000), max_bytes=1000)
    assert "larger than" in exc.value.errors[0].message


def test_too_many_rows_are_refused_before_any_lookup(ctx, contract, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    errors = refused(ctx, contract, make_csv(good_rows()), "export.csv")
    assert "more than 3 rows" in errors[0].message


def test_templates_have_the_columns_and_import_nothing(client, ctx, contract):
    resp = client.get("/payments/import-template.csv")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    first = resp.data.decode("utf-8-sig").splitlines()[0]
    assert first == ",".join(H[c.key] for c in imports.COLUMNS)
    errors = refused(ctx, contract, resp.data, "template.csv")
    assert "no invoices" in errors[0].message

    resp = client.get("/payments/import-template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert [c.value for c in wb.worksheets[0][1]] == [c.header for c in imports.COLUMNS]
    assert len(wb.sheetnames) == 2
    errors = refused(ctx, contract, resp.data, "template.xlsx")
    assert "no invoices" in errors[0].message


def test_header_names_are_unambiguous():
    seen: dict[str, str] = {}
    for c in imports.COLUMNS:
        for name in c.names():
            assert seen.setdefault(name, c.key) == c.key, name
    assert imports.column_for_header("Supplier code") == "supplier_code"
    assert imports.column_for_header("Apmokėta") == "paid_on"


@pytest.mark.parametrize(("written", "expected"), [
    ("2026-03-31", dt.date(2026, 3, 31)), ("2026.03.31", dt.date(2026, 3, 31)), ("31.03.2026", dt.date(2026, 3, 31)),
    ("2026-03-31 00:00:00", dt.date(2026, 3, 31)), (dt.datetime(2026, 3, 31, 12, 0), dt.date(2026, 3, 31)),
    ("", None)])
def test_dates_as_people_write_them(written, expected):
    assert imports.parse_date(written) == expected


@pytest.mark.parametrize("written", ["31/13/2026", "2026-13-01", "yesterday", "46000", "03.31.2026"])
def test_dates_refused(written):
    with pytest.raises(imports.CellError):
        imports.parse_date(written)


# --- municipalities and access ----------------------------------------------------------------------------

def test_finance_officer_of_another_municipality_cannot_import_into_roks_contracts(ctx, contract):
    rows = [inv_row("IMP-O-1"), {**inv_row("IMP-O-2"), "contract_id": str(contract.id), "contract_reference": ""}]
    errors = refused(ctx, contract, make_csv(rows), "export.csv", email="finance.bir@demo.srpp.lt", code="BIR")
    assert [(e.row, col(e)) for e in errors] == [(2, H["contract_reference"]), (3, H["contract_id"])]
    assert all("no contract of" in e.message.casefold() and "Biržai" in e.message for e in errors)
    # and into ROK itself the service refuses them
    with pytest.raises(PermissionDenied):
        run(ctx, make_csv(rows), "export.csv", email="finance.bir@demo.srpp.lt", code="ROK")


def test_an_invoice_recorded_under_another_municipality_is_refused(ctx, contract):
    run(ctx, make_csv([inv_row("IMP-M-1")]), "export.csv")
    finance_bir = _user(ctx, "finance.bir@demo.srpp.lt")
    bir_contract = contracts.create_contract(finance_bir, contracts.ContractInput(
        municipality_id=municipality_by_code("BIR").id, supplier_id=_supplier(ctx, JAUTRI).id,
        title="Biržų sutartis", value=Decimal("5000"), start_date=day(200), end_date=day(10), main_cpv="85312100-0"),
        contracts.TermsInput(reference="SUT-BIR-1"))
    ctx.flush()
    row = inv_row("IMP-M-1") | {"contract_reference": "SUT-BIR-1"}
    errors = refused(ctx, bir_contract, make_csv([row]), "export.csv", email="finance.bir@demo.srpp.lt", code="BIR")
    assert col(errors[0]) == H["invoice_number"] and "another municipality" in errors[0].message


def upload(client, data: bytes, name: str, municipality_id: int | None = None):
    form = {"file": (io.BytesIO(data), name)}
    if municipality_id:
        form["municipality"] = str(municipality_id)
    return client.post("/payments/import", data=form, content_type="multipart/form-data")


@pytest.mark.parametrize(("email", "status"), [
    ("seo@demo.srpp.lt", 403), ("officer.rok@demo.srpp.lt", 403), ("council@demo.srpp.lt", 403),
    (FINANCE, 200), ("admin@demo.srpp.lt", 200)])
def test_import_page_access(as_user, email, status):
    client = as_user(email)
    assert client.get("/payments/import").status_code == status
    assert upload(client, b"", "x.csv").status_code == status


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/payments/import")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    resp = client.post("/payments/import")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_import_page_upload_summary_then_nothing_changed(as_user, ctx, contract):
    ctx.commit()
    client = as_user(FINANCE)
    page = client.get("/payments/import").get_data(as_text=True)
    assert "Rokiškis" in page and "supplier_code" in page and "import-template.xlsx" in page
    rok = municipality_by_code("ROK").id
    resp = upload(client, make_csv(good_rows()), "export.csv", rok)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'id="invoices-added">3<' in page and 'id="payments-added">3<' in page
    assert 'id="invoices-matched">0<' in page and 'id="payments-existing">0<' in page
    page = upload(client, make_csv(good_rows()), "export.csv", rok).get_data(as_text=True)
    assert 'id="invoices-added">0<' in page and 'id="invoices-matched">3<' in page
    assert 'id="payments-existing">3<' in page and "nothing changed" in page
    assert counts(ctx, contract) == (3, 3)


def test_import_page_lists_row_errors(as_user, ctx, contract):
    ctx.commit()
    client = as_user(FINANCE)
    rows = [*good_rows(), inv_row("<b>IMP-X</b>", "100", day(30), paid_on=day(31).isoformat(), paid_amount="100")]
    page = upload(client, make_csv(rows), "export.csv", municipality_by_code("ROK").id).get_data(as_text=True)
    assert "nothing was imported" in page and "cannot be made before its invoice was received" in page
    assert "<b>IMP-X" not in page and "&lt;b&gt;IMP-X" in page
    assert ">6<" in page
    assert counts(ctx, contract) == (0, 0)


def test_a_finance_officer_cannot_pick_another_municipality(as_user, ctx, contract):
    ctx.commit()
    client = as_user(FINANCE)
    resp = upload(client, make_csv(good_rows()), "export.csv", municipality_by_code("BIR").id)
    assert resp.status_code == 200 and "Not a valid choice" in resp.get_data(as_text=True)
    assert counts(ctx, contract) == (0, 0)


def test_admin_chooses_the_municipality(as_user, ctx, contract):
    ctx.commit()
    client = as_user("admin@demo.srpp.lt")
    page = client.get("/payments/import?municipality=ROK").get_data(as_text=True)
    assert 'name="municipality"' in page and "Biržai" in page
    page = upload(client, make_csv(good_rows()), "export.csv", municipality_by_code("ROK").id).get_data(as_text=True)
    assert 'id="invoices-added">3<' in page
