"""What a supplier sees of its payments: contracts, the cash-flow calendar, invoices with lateness and
the statutory interest and compensation owed, and that an organisation sees only its own."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import Membership, Role, User
from srpp.contracts import services as contracts
from srpp.contracts.models import MilestoneTrigger
from srpp.core.i18n import money
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code
from srpp.payments import services
from srpp.payments.supplier_views import CHART_MONTHS, cashflow_chart, cashflow_months, month_label

TODAY = dt.date.today()
SEO = "seo@demo.srpp.lt"
FINANCE = "finance.rok@demo.srpp.lt"


def day(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def _user(ctx, email: str) -> User:
    return ctx.scalar(select(User).where(User.email == email))


def _supplier(ctx, code: str) -> Supplier:
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


@pytest.fixture()
def jautri(ctx):
    """VšĮ "Jautri širdis" with a ROK contract: invoice SV-1 paid late, SV-2 unpaid and late, SV-3 not due
    yet, and a second milestone planned in 60 days that is not invoiced."""
    finance = _user(ctx, FINANCE)
    supplier = _supplier(ctx, "990000001")
    c = contracts.create_contract(finance, contracts.ContractInput(
        municipality_id=municipality_by_code("ROK").id, supplier_id=supplier.id,
        title="Dienos centras <Kamajai>", value=Decimal("9000.00"), start_date=day(200),
        end_date=TODAY + dt.timedelta(days=60), main_cpv="85312100-0"), contracts.TermsInput(reference="SUT-SV-1"))
    contracts.set_schedule(finance, c, [
        contracts.MilestoneInput("Pirmasis etapas", MilestoneTrigger.SIGNING, share_percent=Decimal(50)),
        contracts.MilestoneInput("Antrasis etapas (SV)", MilestoneTrigger.OTHER, share_percent=Decimal(50),
                                 trigger_description="Paslaugų pabaiga", trigger_date=TODAY + dt.timedelta(days=60)),
    ])
    ctx.flush()
    record = services.record_invoice
    sv1 = record(finance, c, services.InvoiceInput("SV-1", Decimal("4500.00"), day(120), "E-SV-1",
                                                   milestone_id=c.milestones[0].id))
    services.record_payment(finance, sv1, day(40), Decimal("4500.00"), "P-SV-1")
    sv2 = record(finance, c, services.InvoiceInput("SV-2", Decimal("700.00"), day(90), "E-SV-2"))
    services.record_payment(finance, sv2, day(70), Decimal("200.00"), "P-SV-2")
    record(finance, c, services.InvoiceInput("SV-3", Decimal("300.00"), day(3), "E-SV-3"))
    ctx.commit()
    return supplier, c


def _text(page: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|tr)>', page, re.S)
    assert m, element_id
    return re.sub(r"<[^>]+>", "", m.group(1)).strip()


def test_the_member_sees_its_contracts_cashflow_invoices_and_the_interest_owed(as_user, ctx, jautri):
    supplier, contract = jautri
    page = as_user(SEO).get("/payments/mine").get_data(as_text=True)
    assert supplier.legal_name in page or "Jautri" in page
    # the contract, escaped, with its municipality, value, period and a link to its page
    assert "Dienos centras &lt;Kamajai&gt;" in page and "<Kamajai>" not in page
    assert f'href="/contracts/{contract.id}"' in page and "€9,000.00" in page and "SUT-SV-1" in page
    # the amounts are the services' own
    interest, compensation = services.owed_to_supplier(supplier.id)
    assert interest > 0 and compensation >= Decimal(80)  # SV-1 and SV-2 are late: EUR 40 each
    assert _text(page, "owed-interest") == money(interest)
    assert _text(page, "owed-compensation") == money(compensation)
    assert _text(page, "owed-total") == money(interest + compensation)
    invoices = {i.number: i for i in services.supplier_invoices(_user(ctx, SEO), supplier.id)}
    sv1, sv2, sv3 = invoices["SV-1"], invoices["SV-2"], invoices["SV-3"]
    assert sv1.state.value == "paid_late" and sv2.state.value == "late" and sv3.state.value in ("received", "due")
    row = _text(page, f"invoice-{sv1.id}")
    assert "paid late" in row and money(sv1.interest) in row and money(sv1.compensation) in row
    assert str(sv1.days_late) in row
    row = _text(page, f"invoice-{sv2.id}")
    assert "late" in row and money(sv2.interest) in row and money(Decimal("200.00")) in row
    # the cash-flow calendar: what is still to come, grouped by month with a total
    rows = services.supplier_cashflow(_user(ctx, SEO), supplier.id)
    assert _text(page, "expected-total") == money(sum(r.amount for r in rows))
    assert "Milestone: Antrasis etapas (SV)" in page and "Invoice SV-3" in page and "Invoice SV-2" in page
    assert "Milestone: Pirmasis etapas" not in page  # invoiced (SV-1) and met
    for m in cashflow_months(rows):
        assert f"Total {month_label(m.month)}" in page and money(m.total) in page
    # the chart, and the rights explained
    assert 'role="img"' in page and "Expected payments per month" in page
    assert "cannot be waived" in page and "plus 8 percentage points" in page and "€40.00" in page


def test_cashflow_months_and_chart_add_up(ctx, jautri):
    supplier, contract = jautri
    rows = services.supplier_cashflow(_user(ctx, SEO), supplier.id)
    months = cashflow_months(rows)
    assert sum(m.total for m in months) == sum(r.amount for r in rows)
    assert [m.month for m in months] == sorted({r.day.replace(day=1) for r in rows})
    mine = [r for r in rows if r.contract.id == contract.id]
    assert sorted((r.kind, r.label, r.amount) for r in mine) == [
        ("invoice", "SV-2", Decimal("500.00")), ("invoice", "SV-3", Decimal("300.00")),
        ("milestone", "Antrasis etapas (SV)", Decimal("4500.00"))]
    chart = cashflow_chart(months, TODAY)
    current = TODAY.replace(day=1)
    past = [m for m in months if m.month < current]
    assert past, "SV-2 fell due in a past month"
    # the first column is what fell due in past months and is unpaid, in the warning colour
    assert chart.columns[0].label == "Overdue" and chart.columns[0].total == sum(m.total for m in past)
    assert all(s.css.endswith("chart-warn") for s in chart.columns[0].segments)
    assert not any(s.css.endswith("chart-warn") for c in chart.columns[1:] for s in c.segments)
    # then every month from the current one to the last with a payment, at most CHART_MONTHS
    last = months[-1].month
    span = (last.year - current.year) * 12 + last.month - current.month + 1
    assert len(chart.columns) == 1 + min(span, CHART_MONTHS)
    ahead = current.month - 1 + CHART_MONTHS
    horizon = dt.date(current.year + ahead // 12, ahead % 12 + 1, 1)
    assert sum(c.total for c in chart.columns[1:]) == sum(m.total for m in months if current <= m.month < horizon)
    assert money(sum(m.total for m in past)) in chart.desc


def test_another_organisations_payments_are_forbidden(as_user, ctx, jautri):
    supplier, _contract = jautri
    other = _supplier(ctx, "990000002")
    client = as_user(SEO)
    assert client.get(f"/payments/suppliers/{supplier.id}").status_code == 200
    assert client.get(f"/payments/suppliers/{other.id}").status_code == 403
    resp = client.get(f"/payments/mine?supplier={other.id}")
    assert resp.status_code == 302
    assert client.get(resp.headers["Location"]).status_code == 403
    assert client.get("/payments/suppliers/999999999").status_code == 404


@pytest.mark.parametrize(("email", "mine", "jautri_page"), [
    ("admin@demo.srpp.lt", 200, 200), ("council@demo.srpp.lt", 200, 200),
    (FINANCE, 403, 403), ("officer.rok@demo.srpp.lt", 403, 403)])
def test_access_of_other_roles(as_user, jautri, email, mine, jautri_page):
    supplier, _contract = jautri
    client = as_user(email)
    assert client.get("/payments/mine").status_code == mine
    assert client.get(f"/payments/suppliers/{supplier.id}").status_code == jautri_page


def test_anonymous_is_sent_to_login(client, jautri):
    supplier, _contract = jautri
    for url in ("/payments/mine", f"/payments/suppliers/{supplier.id}"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_council_picks_an_organisation(as_user, jautri):
    supplier, _contract = jautri
    client = as_user("council@demo.srpp.lt")
    page = client.get("/payments/mine").get_data(as_text=True)
    assert "Choose an organisation" in page and f'value="{supplier.id}"' in page
    resp = client.get(f"/payments/mine?supplier={supplier.id}")
    assert resp.headers["Location"].endswith(f"/payments/suppliers/{supplier.id}")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "SV-1" in page and "Dienos centras &lt;Kamajai&gt;" in page


def test_a_member_of_two_organisations_can_switch(as_user, ctx, jautri):
    supplier, _contract = jautri
    other = _supplier(ctx, "990000002")
    seo = _user(ctx, SEO)
    ctx.add(Membership(user_id=seo.id, role=Role.SEO_MEMBER, supplier_id=other.id))
    ctx.commit()
    client = as_user(SEO)
    page = client.get("/payments/mine").get_data(as_text=True)
    assert 'id="pick-supplier"' in page and f'value="{other.id}"' in page and f'value="{supplier.id}"' in page
    assert client.get(f"/payments/suppliers/{other.id}").status_code == 200
    assert client.get(f"/payments/suppliers/{_supplier(ctx, '990000003').id}").status_code == 403


def test_the_page_in_lithuanian(as_user, jautri):
    page = as_user(SEO, lang="lt").get("/payments/mine").get_data(as_text=True)
    assert 'lang="lt"' in page and "SV-1" in page
