"""The half-yearly data protocol (issue #8 item 3): validation by unit and range, the upload (all or
nothing, row errors), submission and aggregation into the indicator values, due dates and reminders,
completeness and timeliness, and who may report what.

The tests make their own reported indicators (codes T-…) and set the registry's reported indicators
aside (inside the rolled-back transaction), and work on half-years in 2030, when no demo contract runs."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import delete, func, select, update

from srpp.auth.models import User
from srpp.contracts.models import Contract, ContractState
from srpp.core import settings
from srpp.core.errors import ConcurrentEdit
from srpp.core.models import Notification
from srpp.core.permissions import PermissionDenied
from srpp.kpis.models import Direction, Indicator, IndicatorGroup, IndicatorSource, IndicatorValue
from srpp.orgs.models import Municipality, Supplier
from srpp.orgs.services import municipality_by_code
from srpp.reporting import imports, services
from srpp.reporting.models import DataSubmission, SubmissionState, SubmissionValue
from srpp.reporting.services import Entry

PERIOD = dt.date(2030, 1, 1)  # 2030 H1
END = dt.date(2030, 6, 30)
DUE = dt.date(2030, 7, 30)  # END + 30 days (the default setting)
JAUTRI = "990000001"  # the demo SEO (seo@demo.srpp.lt is its member)
OTHER = "990000002"
OFFICER, FINANCE = "officer.rok@demo.srpp.lt", "finance.rok@demo.srpp.lt"
SEO, COUNCIL = "seo@demo.srpp.lt", "council@demo.srpp.lt"

#: code, unit, reported_by, minimum, maximum
SPECS = [
    ("T-SESSIONS", "count", "both", None, None),
    ("T-VACANCY-SHARE", "percent", "municipality", None, None),
    ("T-WAIT-DAYS", "days", "municipality", Decimal(-365), Decimal(365)),
    ("T-CARE-HOURS", "hours", "contract", None, None),
    ("T-SATISFACTION", "score", "contract", Decimal(1), Decimal(5)),
]


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code: str) -> Supplier:
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture()
def ind(ctx) -> dict[str, Indicator]:
    """The test's reported indicators by code (the registry's own are set aside)."""
    ctx.execute(update(Indicator).where(Indicator.source == IndicatorSource.REPORTED).values(reported_by=None))
    ctx.execute(delete(DataSubmission).where(DataSubmission.period_start >= PERIOD))
    out = {}
    for n, (code, unit, level, lo, hi) in enumerate(SPECS):
        name = code.title().replace("T-", "").replace("-", " ") + " (test)"
        out[code] = Indicator(code=code, group=IndicatorGroup.OUTPUTS, name_lt=name, name_en=name,
                              definition_lt=f"{name}.", definition_en=f"{name}.", unit=unit,
                              direction=Direction.HIGHER, source=IndicatorSource.REPORTED, reported_by=level,
                              minimum=lo, maximum=hi, sort_order=9000 + n)
        ctx.add(out[code])
    ctx.flush()
    return out


def _contract(ctx, muni: str, supplier: str, title: str, start=dt.date(2029, 1, 1), end=dt.date(2031, 12, 31),
              state=ContractState.ACTIVE) -> Contract:
    c = Contract(municipality_id=municipality_by_code(muni).id, supplier_id=_supplier(ctx, supplier).id, title=title,
                 value=Decimal("10000.00"), awarded_on=start, start_date=start, end_date=end, main_cpv="85312100-0",
                 state=state)
    ctx.add(c)
    ctx.flush()
    return c


@pytest.fixture()
def contracts(ctx, ind):
    """ROK contracts of the demo SEO (``mine``) and of another supplier (``theirs``)."""
    return {"mine": _contract(ctx, "ROK", JAUTRI, "Dienos centras (protokolo testas)"),
            "theirs": _contract(ctx, "ROK", OTHER, "Pagalba namuose (protokolo testas)")}


def _sub(ctx, muni: str, contract: Contract | None = None, due: dt.date = DUE) -> DataSubmission:
    s = DataSubmission(municipality_id=municipality_by_code(muni).id, contract_id=contract.id if contract else None,
                       period_start=PERIOD, period_end=END, due_on=due)
    ctx.add(s)
    ctx.flush()
    return s


def entries(ind, **values) -> dict[int, Entry]:
    """Entries by code: T_SESSIONS="12" or T_SESSIONS=("12", "a note")."""
    out = {}
    for key, v in values.items():
        raw, note = v if isinstance(v, tuple) else (v, None)
        out[ind[key.replace("_", "-")].id] = Entry(raw, note)
    return out


def _values(ctx, sub: DataSubmission) -> dict[str, Decimal | None]:
    ctx.expire_all()
    return {v.indicator.code: v.value for v in ctx.scalars(select(SubmissionValue).where(
        SubmissionValue.submission_id == sub.id))}


# --- validation ----------------------------------------------------------------------------------------------

def test_values_are_validated_by_unit_and_range_and_nothing_is_saved(ctx, ind):
    sub = _sub(ctx, "ROK")
    finance = _user(ctx, FINANCE)
    services.save_values(finance, sub, entries(ind, T_SESSIONS="4"))
    version = sub.version
    with pytest.raises(services.ValuesRefused) as err:
        services.save_values(finance, sub, entries(ind, T_SESSIONS="-3", T_VACANCY_SHARE="100,5", T_WAIT_DAYS="abc"))
    problems = err.value.errors
    assert problems == {
        ind["T-SESSIONS"].id: "The value cannot be negative.",
        ind["T-VACANCY-SHARE"].id: "A percentage cannot be more than 100.",
        ind["T-WAIT-DAYS"].id: "Write a number, e.g. 1234.50 or 1 234,50.",
    }
    assert dict(err.value.named)["Sessions (test)"] == "The value cannot be negative."
    assert err.value.message == "Sessions (test): The value cannot be negative."
    assert _values(ctx, sub) == {"T-SESSIONS": Decimal(4)} and sub.version == version
    # a count is whole; a score keeps to the indicator's own range; a reduction in days may be negative
    with pytest.raises(services.ValuesRefused) as err:
        services.save_values(finance, sub, entries(ind, T_SESSIONS="1.5", T_WAIT_DAYS="400"))
    assert err.value.errors == {ind["T-SESSIONS"].id: "A count is a whole number.",
                                ind["T-WAIT-DAYS"].id: "The value must be at most 365."}
    services.save_values(finance, sub, entries(ind, T_SESSIONS="1 204", T_VACANCY_SHARE="12,5", T_WAIT_DAYS="-14"))
    assert _values(ctx, sub) == {"T-SESSIONS": Decimal(1204), "T-VACANCY-SHARE": Decimal("12.5"),
                                 "T-WAIT-DAYS": Decimal(-14)}
    # the registry's own range replaces the unit's: a deviation in percent may be negative or above 100
    deviation = Indicator(code="T-DEVIATION", group=IndicatorGroup.FINANCE, name_lt="Deviation", name_en="Deviation",
                          definition_lt=".", definition_en=".", unit="percent", direction=Direction.LOWER,
                          source=IndicatorSource.REPORTED, reported_by="municipality", minimum=Decimal(-100),
                          maximum=Decimal(1000))
    ctx.add(deviation)
    ctx.flush()
    services.save_values(finance, sub, {deviation.id: Entry("150")})
    services.save_values(finance, sub, {deviation.id: Entry("-10,25")})
    assert _values(ctx, sub)["T-DEVIATION"] == Decimal("-10.25")
    with pytest.raises(services.ValuesRefused) as err:
        services.save_values(finance, sub, {deviation.id: Entry("-100.5")})
    assert err.value.errors == {deviation.id: "The value must be at least -100."}
    contract_sub = _sub(ctx, "ROK", _contract(ctx, "ROK", JAUTRI, "Score test"))
    with pytest.raises(services.ValuesRefused) as err:
        services.save_values(finance, contract_sub, entries(ind, T_SATISFACTION="0", T_VACANCY_SHARE="5"))
    assert err.value.errors == {ind["T-SATISFACTION"].id: "The value must be at least 1.",
                                ind["T-VACANCY-SHARE"].id: "This indicator is not reported in this submission."}


def test_the_form_names_the_refused_fields_and_saves_nothing(as_user, ctx, ind):
    sub = _sub(ctx, "ROK")
    ctx.commit()
    client = as_user(OFFICER)
    page = client.get(f"/reporting/{sub.id}").get_data(as_text=True)
    assert "Sessions (test)" in page and f'name="value_{ind["T-SESSIONS"].id}"' in page
    assert "Care Hours (test)" not in page  # a contract-level indicator is not asked of the municipality
    resp = client.post(f"/reporting/{sub.id}", data={
        "version": sub.version, "action": "submit", f"value_{ind['T-SESSIONS'].id}": "-3",
        f"value_{ind['T-VACANCY-SHARE'].id}": "101", f"value_{ind['T-WAIT-DAYS'].id}": "twelve"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Nothing was saved" in page
    assert "Sessions (test): The value cannot be negative." in page
    assert "Vacancy Share (test): A percentage cannot be more than 100." in page
    assert "Wait Days (test): Write a number" in page
    assert f'href="#value_{ind["T-SESSIONS"].id}"' in page and 'aria-invalid="true"' in page
    assert _values(ctx, sub) == {}
    assert ctx.get(DataSubmission, sub.id).state == SubmissionState.DRAFT


def test_the_form_saves_a_draft_then_submits(as_user, ctx, ind):
    sub = _sub(ctx, "ROK")
    ctx.commit()
    client = as_user(FINANCE)
    resp = client.post(f"/reporting/{sub.id}", data={
        "version": sub.version, "action": "save", f"value_{ind['T-SESSIONS'].id}": "12",
        f"note_{ind['T-WAIT-DAYS'].id}": "The survey is not finished."})
    assert resp.status_code == 302
    ctx.expire_all()
    sub = ctx.get(DataSubmission, sub.id)
    assert sub.state == SubmissionState.DRAFT and _values(ctx, sub) == {"T-SESSIONS": 12, "T-WAIT-DAYS": None}
    page = client.get(f"/reporting/{sub.id}").get_data(as_text=True)
    assert "The survey is not finished." in page and "2 indicators have no value yet." in page
    # a stale form is refused
    resp = client.post(f"/reporting/{sub.id}", data={"version": sub.version - 1, "action": "submit",
                                                     f"value_{ind['T-SESSIONS'].id}": "13"})
    assert resp.status_code == 200 and "changed by someone else" in resp.get_data(as_text=True)
    resp = client.post(f"/reporting/{sub.id}", data={"version": sub.version, "action": "submit",
                                                     f"value_{ind['T-SESSIONS'].id}": "13",
                                                     f"note_{ind['T-WAIT-DAYS'].id}": "Still not finished."})
    assert resp.status_code == 302
    ctx.expire_all()
    sub = ctx.get(DataSubmission, sub.id)
    assert sub.state == SubmissionState.SUBMITTED and sub.submitted_by.email == FINANCE
    assert _values(ctx, sub) == {"T-SESSIONS": 13, "T-WAIT-DAYS": None}
    page = client.get(f"/reporting/{sub.id}").get_data(as_text=True)
    assert "Save and submit the corrected values" in page and "Save draft" not in page
    # fields not posted are left alone; an emptied field removes what it held
    resp = client.post(f"/reporting/{sub.id}", data={"version": sub.version, "action": "submit",
                                                     f"value_{ind['T-SESSIONS'].id}": "14"})
    assert resp.status_code == 302 and _values(ctx, sub) == {"T-SESSIONS": 14, "T-WAIT-DAYS": None}
    sub = ctx.get(DataSubmission, sub.id)
    resp = client.post(f"/reporting/{sub.id}", data={"version": sub.version, "action": "submit",
                                                     f"note_{ind['T-WAIT-DAYS'].id}": ""})
    assert resp.status_code == 302 and _values(ctx, sub) == {"T-SESSIONS": 14}
    # a post without the form's version is refused
    resp = client.post(f"/reporting/{sub.id}", data={"action": "submit", f"value_{ind['T-SESSIONS'].id}": ""})
    assert resp.status_code == 200 and _values(ctx, sub) == {"T-SESSIONS": 14}


# --- upload ----------------------------------------------------------------------------------------------------

def make_csv(rows: list[list[str]], delimiter: str = ",", header=("indicator_code", "value", "note")) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_upload_is_all_or_nothing_with_row_errors(ctx, ind):
    sub = _sub(ctx, "ROK")
    officer = _user(ctx, OFFICER)
    services.save_values(officer, sub, entries(ind, T_SESSIONS=("4", "first count")))
    bad = make_csv([
        ["T-SESSIONS", "12", ""],  # row 2: fine
        ["T-VACANCY-SHARE", "150", "too high"],  # row 3
        ["t-wait-days", "soon", ""],  # row 4
        ["T-CARE-HOURS", "5", ""],  # row 5: asked per contract
        ["T-NOPE", "1", ""],  # row 6
        ["T-SESSIONS", "-1", ""],  # row 7: twice, and negative
    ])
    with pytest.raises(imports.ImportRefused) as err:
        imports.import_values(officer, sub, "values.csv", io.BytesIO(bad))
    got = {(e.row, e.column, e.message) for e in err.value.errors}
    assert got == {
        (3, "value (B)", "A percentage cannot be more than 100."),
        (4, "value (B)", "Write a number, e.g. 1234.50 or 1 234,50."),
        (5, "indicator_code (A)", "The indicator T-CARE-HOURS is not reported in this submission (it is reported "
                                  "per contract)."),
        (6, "indicator_code (A)", "There is no reported indicator with the code T-NOPE."),
        (7, "indicator_code (A)", "The indicator T-SESSIONS is given twice (also in row 2)."),
        (7, "value (B)", "The value cannot be negative."),
    }
    assert _values(ctx, sub) == {"T-SESSIONS": 4}
    # a good file (semicolons, decimal commas): values saved, an empty row skipped, the notes column replaces notes
    good = make_csv([["T-SESSIONS", "12", ""], ["T-VACANCY-SHARE", "12,5", "estimate"], ["T-WAIT-DAYS", "", ""]], ";")
    summary = imports.import_values(officer, sub, "values.csv", io.BytesIO(good))
    assert (summary.rows, summary.values, summary.skipped) == (3, 2, 1)
    assert _values(ctx, sub) == {"T-SESSIONS": 12, "T-VACANCY-SHARE": Decimal("12.5")}
    rows = {v.indicator.code: v for v in ctx.scalars(select(SubmissionValue).where(
        SubmissionValue.submission_id == sub.id))}
    assert rows["T-SESSIONS"].note is None and rows["T-VACANCY-SHARE"].note == "estimate"
    assert rows["T-SESSIONS"].source == "upload"


def test_xlsx_upload_refuses_formulas_and_reads_the_template(ctx, ind):
    sub = _sub(ctx, "ROK")
    officer = _user(ctx, OFFICER)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["indicator_code", "value", "note"])
    ws.append(["T-SESSIONS", 7, None])
    ws.append(["T-VACANCY-SHARE", "=1+1", None])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(imports.ImportRefused) as err:
        imports.import_values(officer, sub, "values.xlsx", io.BytesIO(buf.getvalue()))
    assert [(e.row, e.column) for e in err.value.errors] == [(3, "value (B)")]
    assert "formula" in err.value.errors[0].message
    assert _values(ctx, sub) == {}
    with pytest.raises(imports.ImportRefused) as err:
        imports.import_values(officer, sub, "values.xlsx", io.BytesIO(make_csv([["T-SESSIONS", "1", ""]])))
    assert "not a real .xlsx" in err.value.errors[0].message
    # the submission's own template, filled in, goes back in
    services.save_values(officer, sub, entries(ind, T_SESSIONS="3", T_WAIT_DAYS=("", "no survey yet")))
    wb = openpyxl.load_workbook(io.BytesIO(imports.template_xlsx(sub)))
    ws = wb.active
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"T-SESSIONS", "T-VACANCY-SHARE", "T-WAIT-DAYS"}
    assert rows["T-SESSIONS"][1] == 3 and rows["T-WAIT-DAYS"][2] == "no survey yet"
    for r in ws.iter_rows(min_row=2):
        if r[0].value == "T-VACANCY-SHARE":
            r[1].value = 33.3
    buf = io.BytesIO()
    wb.save(buf)
    imports.import_values(officer, sub, "filled.xlsx", io.BytesIO(buf.getvalue()))
    assert _values(ctx, sub) == {"T-SESSIONS": 3, "T-VACANCY-SHARE": Decimal("33.3"), "T-WAIT-DAYS": None}
    text = imports.template_csv(sub).decode("utf-8-sig")
    assert text.splitlines()[0] == "indicator_code,value,note,indicator,unit" and "T-VACANCY-SHARE,33.3," in text


def test_upload_page_lists_row_errors(as_user, ctx, ind):
    sub = _sub(ctx, "ROK")
    ctx.commit()
    client = as_user(FINANCE)
    data = {"version": str(sub.version),
            "file": (io.BytesIO(make_csv([["T-SESSIONS", "-2", ""], ["T-WAIT-DAYS", "<b>x</b>", ""]])), "v.csv")}
    resp = client.post(f"/reporting/{sub.id}/upload", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "The file was refused: nothing was saved." in page
    assert "The value cannot be negative." in page and "2 problems found" in page
    assert _values(ctx, sub) == {}
    data = {"version": str(sub.version), "file": (io.BytesIO(make_csv([["T-SESSIONS", "2", ""]])), "v.csv")}
    resp = client.post(f"/reporting/{sub.id}/upload", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302 and _values(ctx, sub) == {"T-SESSIONS": 2}


# --- submission and aggregation -------------------------------------------------------------------------------

def _reported(ctx, ind) -> dict[tuple[str, str], IndicatorValue]:
    ctx.expire_all()
    ids = {i.id: code for code, i in ind.items()}
    return {(ids[iv.indicator_id], iv.scope_key): iv for iv in ctx.scalars(select(IndicatorValue).where(
        IndicatorValue.indicator_id.in_(list(ids)), IndicatorValue.period_start == PERIOD))}


def test_submit_aggregates_for_the_municipality_and_the_region(ctx, ind, contracts):
    rok, bir = municipality_by_code("ROK").id, municipality_by_code("BIR").id
    officer, seo, finance_bir = _user(ctx, OFFICER), _user(ctx, SEO), _user(ctx, "finance.bir@demo.srpp.lt")
    rok_sub, bir_sub = _sub(ctx, "ROK"), _sub(ctx, "BIR")
    mine, theirs = _sub(ctx, "ROK", contracts["mine"]), _sub(ctx, "ROK", contracts["theirs"])
    services.save_values(officer, rok_sub, entries(ind, T_SESSIONS="10", T_VACANCY_SHARE="20", T_WAIT_DAYS="-5"),
                         submit=True)
    services.save_values(seo, mine, entries(ind, T_SESSIONS="5", T_CARE_HOURS="100.5", T_SATISFACTION="4"),
                         submit=True)
    services.save_values(finance_bir, bir_sub, entries(ind, T_SESSIONS="3", T_VACANCY_SHARE="40"), submit=True)
    services.save_values(officer, theirs, entries(ind, T_SESSIONS="7", T_CARE_HOURS="50", T_SATISFACTION="5"))
    values = _reported(ctx, ind)  # the draft (theirs) is not counted
    m = f"m:{rok}"
    assert {k: v.value for k, v in values.items()} == {
        ("T-SESSIONS", m): 15, ("T-VACANCY-SHARE", m): 20, ("T-WAIT-DAYS", m): -5, ("T-CARE-HOURS", m): Decimal("100.5"),
        ("T-SATISFACTION", m): 4,
        ("T-SESSIONS", f"m:{bir}"): 3, ("T-VACANCY-SHARE", f"m:{bir}"): 40,
        ("T-SESSIONS", "region"): 18, ("T-VACANCY-SHARE", "region"): 30, ("T-WAIT-DAYS", "region"): -5,
        ("T-CARE-HOURS", "region"): Decimal("100.5"), ("T-SATISFACTION", "region"): 4,
    }
    region_share = values[("T-VACANCY-SHARE", "region")]
    assert (region_share.numerator, region_share.denominator) == (60, 2)  # mean of the values reported
    assert region_share.details["rule"] == "mean" and region_share.details["municipalities"] == sorted([rok, bir])
    sessions = values[("T-SESSIONS", m)]
    assert sessions.details["rule"] == "sum" and sessions.municipality_id == rok and sessions.source == "reported"
    assert sessions.details["records"] == [{"type": "data_submission", "id": i} for i in sorted([rok_sub.id, mine.id])]
    assert sessions.period_end == END
    rows_before = len(values)

    services.submit(officer, theirs)
    values = _reported(ctx, ind)
    assert values[("T-SESSIONS", m)].value == 22 and values[("T-CARE-HOURS", m)].value == Decimal("150.5")
    assert values[("T-SATISFACTION", m)].value == Decimal("4.5") and values[("T-SESSIONS", "region")].value == 25
    assert len(values) == rows_before
    first_submitted = ctx.get(DataSubmission, rok_sub.id).submitted_at

    # resubmitting the corrected values replaces the aggregates; a value removed takes its row away
    services.save_values(officer, rok_sub, entries(ind, T_SESSIONS="1", T_VACANCY_SHARE=""), submit=True,
                         now=at(dt.date(2030, 9, 1)))
    values = _reported(ctx, ind)
    assert values[("T-SESSIONS", m)].value == 13 and values[("T-SESSIONS", "region")].value == 16
    assert ("T-VACANCY-SHARE", m) not in values and values[("T-VACANCY-SHARE", "region")].value == 40
    assert len(values) == rows_before - 1
    assert ctx.get(DataSubmission, rok_sub.id).submitted_at == first_submitted  # timeliness: the first submission
    # idempotent: recomputing changes nothing and adds no row
    snapshot = {k: (v.value, v.numerator, v.denominator) for k, v in values.items()}
    services.aggregate(PERIOD)
    services.aggregate(PERIOD)
    again = _reported(ctx, ind)
    assert {k: (v.value, v.numerator, v.denominator) for k, v in again.items()} == snapshot
    total = ctx.scalar(select(func.count()).select_from(IndicatorValue).where(
        IndicatorValue.indicator_id.in_([i.id for i in ind.values()]), IndicatorValue.period_start == PERIOD))
    assert total == len(snapshot)


# --- due dates and reminders -------------------------------------------------------------------------------

def test_open_period_creates_the_submissions_due(ctx, ind, contracts):
    ended = _contract(ctx, "BIR", OTHER, "Ended before 2030", end=dt.date(2029, 12, 31))
    terminated = _contract(ctx, "BIR", OTHER, "Terminated", state=ContractState.TERMINATED)
    admin = _user(ctx, "admin@demo.srpp.lt")
    opened = services.open_period(dt.date(2030, 3, 15))
    assert (opened.period_start, opened.period_end, opened.due_on) == (PERIOD, END, DUE)
    subs = list(ctx.scalars(select(DataSubmission).where(DataSubmission.period_start == PERIOD)))
    assert opened.created == len(subs) and opened.existing == 0
    munis = ctx.scalar(select(func.count()).select_from(Municipality))
    assert sorted(s.municipality_id for s in subs if s.contract_id is None) == sorted(
        ctx.scalars(select(Municipality.id)))
    assert len([s for s in subs if s.contract_id is None]) == munis == 6
    contract_ids = {s.contract_id for s in subs if s.contract_id}
    assert {contracts["mine"].id, contracts["theirs"].id} <= contract_ids
    assert ended.id not in contract_ids and terminated.id not in contract_ids
    assert {s.due_on for s in subs} == {DUE} and {s.state for s in subs} == {SubmissionState.DRAFT}
    assert services.open_period(PERIOD).created == 0  # idempotent
    settings.set_value(admin, "reporting.due_days", "45")
    assert services.open_period(dt.date(2030, 7, 1), admin).due_on == dt.date(2031, 2, 14)
    with pytest.raises(PermissionDenied):
        services.open_period(PERIOD, _user(ctx, OFFICER))
    # without any contract-level indicator no contract is asked
    ctx.execute(update(Indicator).where(Indicator.reported_by == "contract").values(reported_by=None))
    ctx.execute(update(Indicator).where(Indicator.reported_by == "both").values(reported_by="municipality"))
    assert services.open_period(dt.date(2031, 1, 1)).created == 6


def _notes(ctx, sub: DataSubmission, state: str) -> list[str]:
    return sorted(ctx.scalars(select(User.email).join(Notification, Notification.user_id == User.id).where(
        Notification.dedupe_key == f"reporting:{sub.id}:{state}")))


def test_reminders_are_sent_once_to_the_people_responsible(ctx, ind, contracts):
    rok_sub = _sub(ctx, "ROK")
    mine = _sub(ctx, "ROK", contracts["mine"])
    pas_sub = _sub(ctx, "PAS", due=dt.date(2030, 7, 10))
    later = _sub(ctx, "BIR", due=dt.date(2030, 9, 30))
    done = _sub(ctx, "KUP")
    services.submit(_user(ctx, "finance.kup@demo.srpp.lt"), done)
    today = dt.date(2030, 7, 20)
    first = services.reminders(today)
    assert services.reminders(today)["notified"] == 0  # run twice: nothing more
    assert first["notified"] > 0
    rok_people = sorted(u.email for u in services.municipal_reporters(municipality_by_code("ROK").id))
    assert {OFFICER, FINANCE} <= set(rok_people)
    assert _notes(ctx, rok_sub, "due") == rok_people
    assert _notes(ctx, mine, "due") == [SEO]  # the supplier reports its contract
    assert _notes(ctx, pas_sub, "overdue") == sorted(u.email for u in services.municipal_reporters(
        municipality_by_code("PAS").id)) and _notes(ctx, pas_sub, "due") == []
    assert _notes(ctx, later, "due") == [] and _notes(ctx, done, "due") == []
    note = ctx.scalar(select(Notification).join(User).where(User.email == SEO,
                                                            Notification.dedupe_key == f"reporting:{mine.id}:due"))
    assert note.link == f"/reporting/{mine.id}" and "2030-07-30" in note.subject
    # once overdue: a new reminder, and the municipality's officers follow the contract's up
    services.reminders(dt.date(2030, 8, 2))
    services.reminders(dt.date(2030, 8, 3))
    assert _notes(ctx, rok_sub, "overdue") == rok_people
    assert _notes(ctx, mine, "overdue") == sorted({SEO, *rok_people})
    assert len(_notes(ctx, rok_sub, "due")) == len(rok_people)


def test_daily_task_opens_the_last_half_year_and_reminds(ctx, ind):
    today = dt.date(2030, 7, 20)
    counts = services.daily(today)
    assert counts["opened"] == 6 and counts["due_soon"] >= 6 and counts["notified"] > 0
    again = services.daily(today)
    assert again["opened"] == 0 and again["notified"] == 0


# --- completeness and timeliness --------------------------------------------------------------------------

def test_completeness_and_timeliness_on_a_hand_made_set(ctx, ind, contracts):
    """Due 2030-07-30 unless said; counted on 2030-08-15:
    ROK own     submitted 07-20, complete            → due, complete, on time
    ROK mine    submitted 07-29, one value missing   → due, incomplete, on time
    BIR         submitted 08-05, complete            → due, complete, late
    KUP         submitted 07-25, a note, no value    → due, incomplete, on time
    PAS         draft                                → due (overdue)
    PAN-C       draft, due 09-30                     → not counted yet
    PAN-D       submitted 07-01, complete, due 09-30 → counted (submitted early), complete, on time"""
    officer = _user(ctx, "admin@demo.srpp.lt")
    full = {"T_SESSIONS": "1", "T_VACANCY_SHARE": "5", "T_WAIT_DAYS": "0"}
    subs = {}
    for key, muni, contract, due, when, values in [
        ("rok", "ROK", None, DUE, dt.date(2030, 7, 20), full),
        ("mine", "ROK", contracts["mine"], DUE, dt.date(2030, 7, 29), {"T_SESSIONS": "2", "T_CARE_HOURS": "8"}),
        ("bir", "BIR", None, DUE, dt.date(2030, 8, 5), full),
        ("kup", "KUP", None, DUE, dt.date(2030, 7, 25), {**full, "T_WAIT_DAYS": ("", "survey late")}),
        ("pas", "PAS", None, DUE, None, full),
        ("panc", "PAN-C", None, dt.date(2030, 9, 30), None, {}),
        ("pand", "PAN-D", None, dt.date(2030, 9, 30), dt.date(2030, 7, 1), full),
    ]:
        subs[key] = s = _sub(ctx, muni, contract, due)
        services.save_values(officer, s, entries(ind, **values), submit=when is not None,
                             now=at(when) if when else None)
    as_of = dt.date(2030, 8, 15)
    c = services.completeness(PERIOD, None, as_of)
    assert (len(c.rows), c.denominator, c.submitted, c.complete, c.on_time, c.overdue) == (7, 6, 5, 3, 4, 1)
    assert c.complete_share == Decimal("50.00") and c.on_time_share == Decimal("66.67")
    value, num, den, details = services.complete_share(PERIOD, END, None, as_of)
    assert (value, num, den) == (Decimal("50.00"), 3, 6)
    assert details["on_time_share"] == "66.67" and details["overdue"] == 1
    assert {r["id"] for r in details["records"]} == {subs[k].id for k in ("rok", "mine", "bir", "kup", "pas", "pand")}
    assert set(details["incomplete"]) == {subs["mine"].id, subs["kup"].id, subs["pas"].id}
    rok = municipality_by_code("ROK").id
    assert services.complete_share(PERIOD, END, rok, as_of)[:3] == (Decimal("50.00"), 1, 2)
    assert services.complete_share(PERIOD, END, municipality_by_code("PAS").id, as_of)[:3] == (Decimal("0.00"), 0, 1)
    # before the due date only the submitted ones count; a half-year without submissions has no value
    assert services.complete_share(PERIOD, END, None, dt.date(2030, 7, 26))[1:3] == (3, 5)
    assert services.complete_share(dt.date(2031, 1, 1), dt.date(2031, 6, 30), None, as_of)[:3] == (None, 0, 0)
    # a submission just before midnight in Vilnius is on the day it was made there
    late_evening = _sub(ctx, "ROK", contracts["theirs"])
    services.submit(officer, late_evening, now=dt.datetime(2030, 7, 30, 22, 30, tzinfo=dt.UTC))  # 01:30 on 31 July
    assert late_evening.on_time is False
    ok = _sub(ctx, "ROK", _contract(ctx, "ROK", OTHER, "Evening"))
    services.submit(officer, ok, now=dt.datetime(2030, 7, 30, 20, 30, tzinfo=dt.UTC))  # 23:30 on 30 July
    assert ok.on_time is True


# --- access ------------------------------------------------------------------------------------------------------

def test_a_municipality_reports_only_its_own_values(as_user, ctx, ind, contracts):
    rok_sub = _sub(ctx, "ROK")
    ctx.commit()
    with pytest.raises(PermissionDenied):
        services.save_values(_user(ctx, "finance.bir@demo.srpp.lt"), rok_sub, entries(ind, T_SESSIONS="1"))
    client = as_user("finance.bir@demo.srpp.lt")
    form = {"version": rok_sub.version, "action": "submit", f"value_{ind['T-SESSIONS'].id}": "9"}
    assert client.get(f"/reporting/{rok_sub.id}").status_code == 403
    assert client.post(f"/reporting/{rok_sub.id}", data=form).status_code == 403
    upload = {"version": str(rok_sub.version), "file": (io.BytesIO(make_csv([["T-SESSIONS", "9", ""]])), "v.csv")}
    assert client.post(f"/reporting/{rok_sub.id}/upload", data=upload,
                       content_type="multipart/form-data").status_code == 403
    assert client.get(f"/reporting/{rok_sub.id}/template.csv").status_code == 403
    assert f"/reporting/{rok_sub.id}" not in client.get("/reporting/?period=2030H1").get_data(as_text=True)
    assert _values(ctx, rok_sub) == {}
    # the council reads but does not edit
    client = as_user(COUNCIL)
    page = client.get(f"/reporting/{rok_sub.id}").get_data(as_text=True)
    assert 'id="read-only"' in page and 'name="action"' not in page
    assert client.post(f"/reporting/{rok_sub.id}", data=form).status_code == 403
    # ROK's officer does
    client = as_user(OFFICER)
    assert client.post(f"/reporting/{rok_sub.id}", data=form).status_code == 302
    assert _values(ctx, rok_sub) == {"T-SESSIONS": 9}


def test_an_seo_member_edits_only_its_own_contracts_submission(as_user, ctx, ind, contracts):
    rok_sub = _sub(ctx, "ROK")
    mine, theirs = _sub(ctx, "ROK", contracts["mine"]), _sub(ctx, "ROK", contracts["theirs"])
    ctx.commit()
    client = as_user(SEO)
    listing = client.get("/reporting/?period=2030H1").get_data(as_text=True)
    assert f"/reporting/{mine.id}" in listing
    assert f"/reporting/{theirs.id}" not in listing and f"/reporting/{rok_sub.id}" not in listing
    page = client.get(f"/reporting/{mine.id}").get_data(as_text=True)
    assert "Care Hours (test)" in page and "Vacancy Share (test)" not in page
    resp = client.post(f"/reporting/{mine.id}", data={"version": mine.version, "action": "submit",
                                                      f"value_{ind['T-CARE-HOURS'].id}": "120",
                                                      f"value_{ind['T-SATISFACTION'].id}": "4,5"})
    assert resp.status_code == 302
    assert _values(ctx, mine) == {"T-CARE-HOURS": 120, "T-SATISFACTION": Decimal("4.5")}
    assert ctx.get(DataSubmission, mine.id).state == SubmissionState.SUBMITTED
    for sub in (theirs, rok_sub):
        assert client.get(f"/reporting/{sub.id}").status_code == 403
        assert client.post(f"/reporting/{sub.id}", data={"version": sub.version, "action": "save",
                                                          f"value_{ind['T-SESSIONS'].id}": "1"}).status_code == 403
    assert _values(ctx, theirs) == {} and _values(ctx, rok_sub) == {}
    assert client.get("/reporting/overview").status_code == 403
    with pytest.raises(PermissionDenied):
        services.save_values(_user(ctx, SEO), theirs, entries(ind, T_CARE_HOURS="1"))


# --- pages ----------------------------------------------------------------------------------------------------

def test_list_and_council_overview(as_user, ctx, ind, contracts):
    rok_sub, bir_sub = _sub(ctx, "ROK", due=dt.date(2030, 7, 1)), _sub(ctx, "BIR")
    services.save_values(_user(ctx, "finance.bir@demo.srpp.lt"), bir_sub,
                         entries(ind, T_SESSIONS="1", T_VACANCY_SHARE="2", T_WAIT_DAYS="3"), submit=True)
    ctx.commit()
    client = as_user(COUNCIL)
    page = client.get("/reporting/?period=2030H1").get_data(as_text=True)
    assert f'id="submission-{rok_sub.id}"' in page and f'id="submission-{bir_sub.id}"' in page
    assert "3 of 3" in page and "0 of 3" in page and "1 submitted" in page
    page = client.get("/reporting/overview?period=2030H1").get_data(as_text=True)
    assert 'id="muni-ROK"' in page and 'id="region-total"' in page and "<svg" in page
    assert "Open the half-year" in page
    rows = {code: page.split(f'id="muni-{code}"')[1].split("</tr>")[0].replace(" ", "") for code in ("ROK", "BIR")}
    # ROK's is not due yet (nothing counted); BIR's is submitted and complete
    assert rows["ROK"].count('class="num">—<') == 2 and rows["ROK"].count('class="num">0<') == 5
    assert rows["BIR"].count('class="num">100%<') == 2
    assert client.get("/reporting/overview?period=nonsense").status_code == 200
    assert as_user(OFFICER).get("/reporting/overview").status_code == 403
    csv_resp = as_user(OFFICER).get(f"/reporting/{rok_sub.id}/template.csv")
    assert csv_resp.status_code == 200 and "T-SESSIONS" in csv_resp.get_data(as_text=True)


def test_council_opens_a_half_year(as_user, ctx, ind):
    ctx.commit()
    today = services.local_today()
    start = services.period_of(today)[0]
    ctx.execute(delete(DataSubmission).where(DataSubmission.period_start == start))
    ctx.commit()
    client = as_user(COUNCIL)
    resp = client.post("/reporting/open", data={"period": services.period_key(start)})
    assert resp.status_code == 302
    assert ctx.scalar(select(func.count()).select_from(DataSubmission).where(
        DataSubmission.period_start == start, DataSubmission.contract_id.is_(None))) == 6
    assert as_user(OFFICER).post("/reporting/open", data={"period": services.period_key(start)}).status_code == 403


def test_concurrent_edit_is_refused(ctx, ind):
    sub = _sub(ctx, "ROK")
    officer = _user(ctx, OFFICER)
    services.save_values(officer, sub, entries(ind, T_SESSIONS="1"), version=sub.version)
    with pytest.raises(ConcurrentEdit):
        services.save_values(officer, sub, entries(ind, T_SESSIONS="2"), version=sub.version - 1)


def test_the_reminder_task_is_registered_scheduled_and_idempotent(app, ctx, ind):
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks.reporting import reminders

    assert "srpp.reporting.reminders" in app.extensions["celery"].tasks
    assert any(e["task"] == "srpp.reporting.reminders" for e in BEAT_SCHEDULE.values())
    first = reminders.run()
    assert set(first) == {"due_soon", "overdue", "notified", "opened"}
    last_start = services.last_completed_period(services.local_today())[0]
    assert ctx.scalar(select(func.count()).select_from(DataSubmission).where(
        DataSubmission.period_start == last_start, DataSubmission.contract_id.is_(None))) == 6
    again = reminders.run()
    assert again["opened"] == 0 and again["notified"] == 0
