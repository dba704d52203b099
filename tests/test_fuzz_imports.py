"""Property-based tests over the uploads (issue 10) and the upload hardening.

Hypothesis feeds the plan import, the payment import, the data-protocol upload and the supplier
evidence upload random bytes, random CSV, valid headers over garbage values, huge cells, NUL bytes,
other encodings (cp1257, UTF-16) and BOMs, damaged workbooks and workbooks of random typed cells:
the service either imports or refuses with a ``DomainError`` (an ``ImportRefused`` lists the row
errors), no other exception escapes, and a refused file writes nothing.

Then every upload route is given the files the upload gate must refuse before reading (zip bombs by
size and by compression ratio, external links as parts, relationships and formulas, macros, packages
that are not workbooks, CSV that is not text): the page names the reason and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code
from srpp.payments import imports as payment_imports
from srpp.plans import exports as plan_exports
from srpp.plans import imports as plan_imports
from srpp.plans import services as plan_services
from srpp.plans.models import ProcurementPlan
from srpp.reporting import imports as reporting_imports
from srpp.reporting import services as reporting_services
from srpp.reporting.models import DataSubmission
from srpp.suppliers import services as supplier_services
from srpp.suppliers.models import StatusBasis
from tests.test_fuzz_forms import fingerprint

pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("SRPP_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
OFFICER, FINANCE, SEO = "officer.rok@demo.srpp.lt", "finance.rok@demo.srpp.lt", "seo@demo.srpp.lt"
PERIOD = dt.date(2030, 1, 1)  # a half-year without demo submissions


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


# --- the files ---------------------------------------------------------------------------------------

CELL_TEXT = ["", " ", "\x00", "a\x00b", "\ufeff", "=1+1", "+1", "-1", "@SUM(A1)", "'=x", "1e400", "NaN", "-0",
             "9" * 40, "1 234,56", "1.234,56", "12,5", "2027-03", "2026-02-30", "31.12.2026", "yes", "taip",
             "85312100-0", "DEM_DAY", "simplified", "ROK", "990000001", "<script>alert(1)</script>", "\r\n", "\t"]
cell_texts = st.one_of(
    st.sampled_from(CELL_TEXT),
    st.text(max_size=30),  # any unicode, control characters included
    st.integers(1000, 40_000).map(lambda n: "ž" * n),  # huge cells
    st.integers(-(10**15), 10**15).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
ENCODINGS = ["utf-8", "utf-8-sig", "cp1257", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]
NAMES = ["a.csv", "a.xlsx", "a.txt", "a.CSV", "a.XLSX", "a.xls", "a.xlsm", "a", "a.pdf", "../a.csv", ".xlsx"]


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@st.composite
def csv_files(draw, headers: list[str]) -> tuple[bytes, str]:
    """A CSV of random cells, under the upload's own headers (in random order, some left out, some
    made up) or a random first row, in a random encoding and delimiter, maybe with a BOM."""
    if headers and draw(st.booleans()):
        head = draw(st.lists(st.sampled_from(headers), min_size=1, max_size=len(headers) + 1))
        head += draw(st.lists(cell_texts, max_size=2))
    else:
        head = draw(st.lists(cell_texts, min_size=1, max_size=6))
    rows = draw(st.lists(st.lists(cell_texts, max_size=len(head) + 2), max_size=6))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    writer.writerow(head)
    writer.writerows(rows)
    data = _encode(buf.getvalue(), draw(st.sampled_from(ENCODINGS)))
    if draw(st.integers(0, 4)) == 0:
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf\xef\xbb\xbf"])) + data
    return data, draw(st.sampled_from(["a.csv", "a.csv", "a.txt", "a.xlsx"]))


xlsx_cells = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**18), 10**18), st.floats(allow_nan=True, allow_infinity=False),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 1, 1)),
    st.dates(min_value=dt.date(1900, 3, 1)),
    cell_texts.map(lambda s: openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", s)[:32_000]),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", "=[1]Sheet1!A1", "=#REF!", "=1/0"]),
)


@st.composite
def xlsx_files(draw, headers: list[str]) -> tuple[bytes, str]:
    """A workbook of random typed cells (numbers, dates, booleans, formulas, long text) under the
    upload's headers, on a random sheet name."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = draw(st.sampled_from(["Planas", "Sąskaitos", "Duomenys", "Sheet", "x" * 31]))
    head = draw(st.lists(st.sampled_from(headers), min_size=1, max_size=len(headers))) if headers else []
    ws.append(head + draw(st.lists(xlsx_cells, max_size=2)))
    for row in draw(st.lists(st.lists(xlsx_cells, max_size=len(head) + 2), max_size=5)):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), "a.xlsx"


@st.composite
def damaged(draw, good: bytes) -> tuple[bytes, str]:
    """A real workbook with bytes flipped, cut short or spliced."""
    data = bytearray(good)
    how = draw(st.sampled_from(["flip", "cut", "splice"]))
    if how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=200))
    else:
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data), draw(st.sampled_from(["a.xlsx", "a.csv"]))


_GOOD: dict[str, bytes] = {}


def good_once(kind: str, make) -> bytes:
    """A template made once per run: its timestamps change from one call to the next, and hypothesis
    needs the same strategy to draw the same data."""
    if kind not in _GOOD:
        _GOOD[kind] = make()
    return _GOOD[kind]


def uploads(headers: list[str], good_xlsx: bytes):
    return st.one_of(
        st.tuples(st.binary(max_size=2000), st.sampled_from(NAMES)),  # random bytes
        st.tuples(st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b), st.just("a.xlsx")),
        csv_files(headers),
        xlsx_files(headers),
        damaged(good_xlsx),
    )


# --- the property ------------------------------------------------------------------------------------------

def _refuses_or_imports(ctx, call, data: bytes, name: str) -> None:
    """``call(name, stream)`` imports or raises a DomainError; when it refuses nothing was written."""
    savepoint = ctx.begin_nested()
    try:
        conn = ctx.connection()
        before = fingerprint(conn)
        try:
            call(name, io.BytesIO(data))
        except DomainError as err:
            assert err.message, "a refusal says why"
            for e in getattr(err, "errors", []):
                assert isinstance(e.message, str) and e.message
            assert fingerprint(conn) == before, f"{name} was refused but something was written"
    finally:
        savepoint.rollback()


def _headers(columns) -> list[str]:
    return [h for c in columns for h in (c.header, c.key, c.en, c.lt)]


@pytest.fixture()
def rok_draft(ctx):
    officer = _user(ctx, OFFICER)
    plan = ctx.scalar(select(ProcurementPlan).where(ProcurementPlan.municipality_id == municipality_by_code("ROK").id))
    draft = plan_services.start_new_version(officer, plan)
    ctx.flush()
    return draft


@pytest.fixture()
def rok_submission(ctx):
    sub = DataSubmission(municipality_id=municipality_by_code("ROK").id, contract_id=None, period_start=PERIOD,
                         period_end=dt.date(2030, 6, 30), due_on=dt.date(2030, 7, 30))
    ctx.add(sub)
    ctx.flush()
    return sub


@FUZZ
@given(data=st.data())
def test_plan_import_refuses_or_imports(ctx, rok_draft, data):
    officer = _user(ctx, OFFICER)
    good = good_once("plan", plan_exports.template_xlsx)
    content, name = data.draw(uploads(_headers(plan_imports.COLUMNS), good), label="file")
    _refuses_or_imports(ctx, lambda n, s: plan_imports.import_file(officer, rok_draft, n, s), content, name)


@FUZZ
@given(data=st.data())
def test_payment_import_refuses_or_imports(ctx, data):
    finance = _user(ctx, FINANCE)
    rok = municipality_by_code("ROK")
    good = good_once("payments", payment_imports.template_xlsx)
    content, name = data.draw(uploads(_headers(payment_imports.COLUMNS), good), label="file")
    _refuses_or_imports(ctx, lambda n, s: payment_imports.import_file(finance, rok, n, s), content, name)


@FUZZ
@given(data=st.data())
def test_data_protocol_upload_refuses_or_imports(ctx, rok_submission, data):
    officer = _user(ctx, OFFICER)
    codes = [i.code for i in reporting_services.applicable(rok_submission)]
    good = good_once("reporting", lambda: reporting_imports.template_xlsx(rok_submission))
    headers = _headers(reporting_imports.COLUMNS) + codes  # indicator codes among the cells, too
    content, name = data.draw(uploads(headers, good), label="file")
    _refuses_or_imports(ctx, lambda n, s: reporting_imports.import_values(officer, rok_submission, n, s),
                        content, name)


EVIDENCE_PREFIXES = [b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff\xe0", b"PK\x03\x04",
                     b"<svg ", b"<html>", b"MZ\x90\x00"]


@FUZZ
@given(prefix=st.sampled_from(EVIDENCE_PREFIXES), body=st.binary(max_size=3000),
       suffix=st.sampled_from([b"", b"\n%%EOF\n", b"\xff\xd9"]),
       name=st.sampled_from(["a.pdf", "a.png", "a.jpg", "a.jpeg", "a.PDF", "a", "a.pdf.exe", "../../a.pdf",
                             "ž\x00.pdf", "a.svg", "\"><img src=x>.png", ""]))
def test_evidence_upload_refuses_or_stores(ctx, prefix, body, suffix, name):
    admin = _user(ctx, "admin@demo.srpp.lt")
    pasvalys = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000009"))  # no demo statuses
    data = prefix + body + suffix
    checked = None
    try:
        checked = supplier_services.check_evidence(FileStorage(io.BytesIO(data), filename=name))
    except DomainError as err:
        assert err.field == "evidence"
    if checked is not None:  # what passes is what its bytes are, under a clean name
        assert supplier_services.sniff_evidence(data) == checked.mime
        assert re.fullmatch(r"[^/\\\"<>:;|?*%\x00]+\.(pdf|png|jpg)", checked.name), checked.name

    def declare(n, stream):
        return supplier_services.declare_status(
            admin, pasvalys, StatusBasis.LT_SOCIAL_BUSINESS, None, valid_from=dt.date(2026, 1, 1),
            evidence_file=FileStorage(stream, filename=n))

    _refuses_or_imports(ctx, declare, data, name)


# --- the upload gate on every upload route -------------------------------------------------------------------

def _rezip(xlsx: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
           compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The package with some parts replaced and others added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, (replace or {}).get(info.filename, content))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def _part(xlsx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        return zf.read(name)


def _with_formula(xlsx: bytes, formula: str) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    ws = wb.worksheets[0]
    ws.cell(row=ws.max_row + 3, column=1, value=formula)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def bad_files(good: bytes) -> dict[str, tuple[bytes, str, str]]:
    """case → (content, file name, what the page must say)."""
    types = _part(good, "[Content_Types].xml")
    rels = _part(good, "xl/_rels/workbook.xml.rels")
    bomb = _rezip(good, add={"xl/media/image1.xml": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>"})
    ext_rel = rels.replace(b"</Relationships>", b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/'
                           b'officeDocument/2006/relationships/externalLink" Target="externalLinks/x.xml"/>'
                           b"</Relationships>")
    remote = rels.replace(b"</Relationships>", b'<Relationship Id="rIdY" Type="http://schemas.openxmlformats.org/'
                          b'officeDocument/2006/relationships/worksheet" Target="http://evil.example/x.xml" '
                          b'TargetMode="External"/></Relationships>')
    macro_types = types.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert macro_types != types
    not_xlsx = io.BytesIO()
    with zipfile.ZipFile(not_xlsx, "w") as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("word/document.xml", b"<w:document/>")
    external = "links to other files"
    return {
        "ratio bomb": (bomb, "a.xlsx", "zip bomb"),
        "external link part": (_rezip(good, add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}),
                               "a.xlsx", external),
        "external link relationship": (_rezip(good, replace={"xl/_rels/workbook.xml.rels": ext_rel}), "a.xlsx",
                                       external),
        "remote part": (_rezip(good, replace={"xl/_rels/workbook.xml.rels": remote}), "a.xlsx", external),
        "formula into another workbook": (_with_formula(good, "=[1]Sheet1!A1"), "a.xlsx", external),
        "quoted formula into another workbook": (_with_formula(good, "=SUM('[2]My sheet'!A1:A3)"), "a.xlsx",
                                                 external),
        "path formula into another workbook": (_with_formula(good, "='C:\\x\\[book.xlsx]Sheet1'!A1"), "a.xlsx",
                                               external),
        "vba project": (_rezip(good, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 100}), "a.xlsx",
                        "macros"),
        "macro-enabled content type": (_rezip(good, replace={"[Content_Types].xml": macro_types}), "a.xlsx",
                                       "macros"),
        "xlsm name": (good, "a.xlsm", "macros"),
        "zip that is no workbook": (not_xlsx.getvalue(), "a.xlsx", "not a real .xlsx"),
        "binary named csv": (bytes(range(256)) * 4, "a.csv", "UTF-8"),
        "utf-16 csv": ("a;b\n1;2\n".encode("utf-16"), "a.csv", "UTF-8"),
        "cp1257 csv": ("Pavadinimas;Vertė\nėą;1\n".encode("cp1257"), "a.csv", "UTF-8"),
        "csv with NUL bytes": (b"a,b\n1,\x002\n", "a.csv", "not a CSV text file"),
    }


def test_the_checks_leave_real_workbooks_alone(ctx, rok_submission):
    """The templates themselves (and a sheet's own hyperlinks and formulas inside it) pass the gate."""
    for good in (plan_exports.template_xlsx(), payment_imports.template_xlsx(),
                 reporting_imports.template_xlsx(rok_submission)):
        plan_imports.check_xlsx_package(good)
        wb = openpyxl.load_workbook(io.BytesIO(good))
        ws = wb.worksheets[0]
        ws.cell(row=1, column=30, value="link").hyperlink = "https://example.org/[1]x!"
        ws.cell(row=2, column=30, value="=SUM(A1:A3)")
        ws.cell(row=3, column=30, value="[1] Note: see sheet 2!")  # text, not a formula
        buf = io.BytesIO()
        wb.save(buf)
        plan_imports.check_xlsx_package(buf.getvalue())


def test_a_large_ordinary_workbook_passes_the_ratio_check(ctx):
    """10 000 rows of repetitive but real data compress far less than the ratio limit."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for n in range(10_000):
        ws.append([f"Dienos centro paslaugos {n}", "DEM_DAY", "85312100-0", 12500.5 + n, "2027-03", 12, "simplified"])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        ratios = [i.file_size / i.compress_size for i in zf.infolist() if i.compress_size]
    assert max(ratios) < plan_imports.MAX_COMPRESSION_RATIO
    plan_imports.check_xlsx_package(buf.getvalue())


def _page_says(resp, text: str) -> bool:
    import html

    return text in html.unescape(resp.get_data(as_text=True))


def _post_all(client, conn, url: str, good: bytes, extra: dict) -> list[str]:
    failures = []
    for case, (content, name, message) in bad_files(good).items():
        before = fingerprint(conn)
        resp = client.post(url, data={**extra, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
        if resp.status_code != 200 or not _page_says(resp, message):
            failures.append(f"{case}: {resp.status_code}, the page does not say {message!r}")
        if fingerprint(conn) != before:
            failures.append(f"{case}: something was written")
    return failures


def test_plan_import_route_refuses_bad_files(as_user, ctx, conn, rok_draft):
    ctx.commit()
    client = as_user(OFFICER)
    failures = _post_all(client, conn, f"/plans/versions/{rok_draft.id}/import", plan_exports.template_xlsx(), {})
    assert not failures, "\n".join(failures)


def test_payment_import_route_refuses_bad_files(as_user, conn):
    client = as_user(FINANCE)
    failures = _post_all(client, conn, "/payments/import", payment_imports.template_xlsx(), {})
    assert not failures, "\n".join(failures)


def test_data_protocol_upload_route_refuses_bad_files(as_user, ctx, conn, rok_submission):
    ctx.commit()
    client = as_user(OFFICER)
    failures = _post_all(client, conn, f"/reporting/{rok_submission.id}/upload",
                         reporting_imports.template_xlsx(rok_submission), {"version": str(rok_submission.version)})
    assert not failures, "\n".join(failures)


def test_the_bad_files_are_refused_before_openpyxl_reads_them(ctx, rok_draft, monkeypatch):
    """The package checks run before the workbook is opened."""
    files = bad_files(plan_exports.template_xlsx())
    opened = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(1))
    officer = _user(ctx, OFFICER)
    for case, (content, name, message) in files.items():
        with pytest.raises(plan_imports.ImportRefused) as err:
            plan_imports.import_file(officer, rok_draft, name, io.BytesIO(content))
        assert message in err.value.errors[0].message, case
    assert not opened


def test_evidence_route_refuses_content_that_is_not_what_it_claims(as_user, ctx, conn):
    from srpp.suppliers.demo import demo_pdf

    jautri = ctx.scalar(select(Supplier).where(Supplier.company_code == "990000001"))
    client = as_user(SEO)
    form = {"basis": "res-ws", "declared_share": "55", "valid_from": "2026-01-01"}
    cases = {
        "html named png": (b"<html><script>alert(1)</script></html>", "a.png", "none of these"),
        "exe named pdf": (b"MZ\x90\x00" + bytes(300), "a.pdf", "none of these"),
        "pdf named png": (demo_pdf("x"), "a.png", "does not match its content"),
        "xlsx named pdf": (plan_exports.template_xlsx(), "a.pdf", "none of these"),
    }
    for case, (content, name, message) in cases.items():
        before = fingerprint(conn)
        resp = client.post(f"/suppliers/{jautri.id}/statuses", data={**form, "evidence": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
        assert resp.status_code == 200 and _page_says(resp, message), case
        assert fingerprint(conn) == before, case


def test_csv_with_old_mac_line_ends_is_read(ctx, rok_draft):
    """Found by the fuzzing: lines ending in a lone \\r made the delimiter sniffing raise csv.Error."""
    from tests.test_plan_import import BASE, make_csv

    officer = _user(ctx, OFFICER)
    data = make_csv([BASE, {**BASE, "title": "Antra eilutė"}], delimiter=";").replace(b"\r\n", b"\r")
    assert plan_imports.import_file(officer, rok_draft, "mac.csv", io.BytesIO(data)) == 2
    with pytest.raises(plan_imports.ImportRefused):
        plan_imports.import_file(officer, rok_draft, "a.csv", io.BytesIO(b'\xef\xbb\xbf""\r""\r'))
