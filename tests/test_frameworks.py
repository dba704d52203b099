"""Framework rules (table-driven refusals), opt-out dates, specification versions, and call-offs
that cannot exceed a cap or the maximum even when placed at the same moment (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from srpp.auth.models import User
from srpp.core.errors import DomainError
from srpp.frameworks import services
from srpp.frameworks.models import CallOffMethod, FrameworkAgreement, FrameworkState, ParticipantState
from srpp.orgs.models import Supplier
from srpp.orgs.services import municipality_by_code


def _user(ctx, email):
    return ctx.scalar(select(User).where(User.email == email))


def _fa(ctx, code="FA-MOB-DRT-2026") -> FrameworkAgreement:
    return ctx.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == code))


def _supplier(ctx, code):
    return ctx.scalar(select(Supplier).where(Supplier.company_code == code))


def _input(ctx, **kw) -> services.CallOffInput:
    base = dict(supplier_id=_supplier(ctx, "990000008").id, awarded_on=dt.date(2026, 11, 20),
                start_date=dt.date(2026, 12, 1), end_date=dt.date(2027, 3, 31), quantity=Decimal("100"),
                unit="trip", unit_price=Decimal("9.80"), budget_line="08.01.01 Transportas")
    base.update(kw)
    return services.CallOffInput(**base)


def _place(ctx, code="ROK", **kw):
    muni = municipality_by_code(code)
    return services.place_call_off(_user(ctx, f"officer.{code.lower()}@demo.srpp.lt"), _fa(ctx).id, muni,
                                   _input(ctx, **kw))


CALL_OFF_RULES = [
    ({}, None),
    ({"supplier": "990000001"}, "not party"),
    ({"awarded_on": dt.date(2029, 1, 10)}, "before the framework ends"),
    ({"quantity": Decimal("7000")}, "cap of"),
    ({"unit_price": Decimal("12.00")}, "deviates"),
    ({"unit_price": Decimal("10.20")}, None),  # within the 5 % tolerance
    ({"budget_line": " "}, "budget line"),
    ({"municipality": "PAN-C"}, "not an active participant"),
    ({"municipality": "PAS", "awarded_on": dt.date(2027, 2, 1)}, "not an active participant"),  # opt-out effective
    ({"municipality": "PAS", "awarded_on": dt.date(2026, 11, 20)}, None),  # before its opt-out date
]


@pytest.mark.parametrize(("overrides", "refusal"), CALL_OFF_RULES)
def test_call_off_rules(ctx, overrides, refusal):
    code = overrides.pop("municipality", "ROK")
    if "supplier" in overrides:
        overrides["supplier_id"] = _supplier(ctx, overrides.pop("supplier")).id
    if code == "PAN-C":
        with pytest.raises(DomainError) as err:
            _place(ctx, code, **overrides)
        assert refusal in str(err.value)
        return
    if refusal is None:
        call_off = _place(ctx, code, **overrides)
        assert call_off.id and call_off.value == (call_off.quantity * call_off.unit_price).quantize(Decimal("0.01"))
    else:
        with pytest.raises(DomainError, match=refusal):
            _place(ctx, code, **overrides)


def test_cap_refusal_names_cap_committed_and_left(ctx):
    with pytest.raises(services.Refused) as err:
        _place(ctx, quantity=Decimal("9000"))
    message = str(err.value)
    assert "cap is" in message and "already committed" in message and "is left" in message


def test_call_off_creates_a_contract(ctx):
    from srpp.contracts.models import Contract

    call_off = _place(ctx)
    contract = ctx.scalar(select(Contract).where(Contract.call_off_id == call_off.id))
    assert contract.value == call_off.value and contract.municipality.code == "ROK"


def test_maximum_is_a_hard_ceiling(ctx):
    fa = _fa(ctx)
    coordinator = _user(ctx, "officer.kup@demo.srpp.lt")
    committed = services.committed_total(fa)
    inp = services.FrameworkInput(code=fa.code, title=fa.title, category_id=fa.category_id, start_date=fa.start_date,
                                  end_date=fa.end_date, estimated_value=Decimal("50000"),
                                  max_value=committed - 1, call_off_method=fa.call_off_method)
    with pytest.raises(services.Refused, match="already committed"):
        services.update_framework(coordinator, fa, inp, fa.version)
    fa.estimated_value = committed
    fa.max_value = committed + Decimal("100")
    with pytest.raises(services.Refused, match="framework maximum"):
        _place(ctx, quantity=Decimal("20"))


FRAMEWORK_RULES = [
    ({}, None),
    ({"end_date": dt.date(2030, 12, 31)}, None),  # 48 months
    ({"end_date": dt.date(2031, 1, 31)}, "term_justification"),  # 49 months
    ({"end_date": dt.date(2031, 1, 31), "term_justification": "Long DI transition"}, None),
    ({"call_off_method": CallOffMethod.HYBRID}, "objective_criteria"),
    ({"call_off_method": CallOffMethod.HYBRID, "objective_criteria": "≤ 20 000 EUR direct"}, None),
    ({"max_value": Decimal("100")}, "max_value"),
    ({"estimated_value": Decimal("0")}, "estimated_value"),
]


@pytest.mark.parametrize(("overrides", "field"), FRAMEWORK_RULES)
def test_framework_rules(ctx, overrides, field):
    base = dict(code="FA-X", title="X", category_id=1, start_date=dt.date(2027, 1, 1),
                end_date=dt.date(2029, 12, 31), estimated_value=Decimal("1000"),
                max_value=Decimal("1200"), call_off_method=CallOffMethod.DIRECT)
    base.update(overrides)
    problems = [p for p in services.check_framework(services.FrameworkInput(**base)) if p.blocking]
    assert [p.field for p in problems] == ([] if field is None else [field])


def test_only_the_coordinator_manages(ctx):
    from srpp.core.permissions import PermissionDenied

    fa = _fa(ctx)
    with pytest.raises(PermissionDenied):
        services.publish_specification(_user(ctx, "officer.rok@demo.srpp.lt"), fa, "a", "b", "c")
    with pytest.raises(PermissionDenied):  # a procurement officer of the coordinator without the role
        services.publish_specification(_user(ctx, "finance.kup@demo.srpp.lt"), fa, "a", "b", "c")


def test_specification_versions_diff_and_acknowledgement(ctx):
    fa = _fa(ctx)
    coordinator = _user(ctx, "officer.kup@demo.srpp.lt")
    latest = fa.spec_versions[-1]
    v3 = services.publish_specification(coordinator, fa, latest.specification + "\nSekmadieniais 9–13 val.",
                                        latest.quality_standard, "Sekmadienio kelionės")
    assert v3.number == 3
    diff = services.spec_diff(latest, v3)
    assert ("+", "Sekmadieniais 9–13 val.") in diff.specification
    assert municipality_by_code("ROK") in services.pending_acknowledgements(fa)
    services.acknowledge(_user(ctx, "officer.rok@demo.srpp.lt"), v3, municipality_by_code("ROK"))
    assert municipality_by_code("ROK") not in services.pending_acknowledgements(fa)
    with pytest.raises(DomainError, match="Nothing changed"):
        services.publish_specification(coordinator, fa, v3.specification, v3.quality_standard, "again")


def test_opt_out_effective_date_and_execution(ctx):
    fa = _fa(ctx, "FA-HOUS-TEN-2026")
    participant = next(p for p in fa.participants if p.municipality.code == "PAN-D")
    effective = services.request_opt_out(_user(ctx, "officer.pan-d@demo.srpp.lt"), participant,
                                         dt.date(2026, 12, 1))
    assert effective == dt.date(2027, 3, 1)  # 90 days' notice
    services.execute_opt_outs(dt.date(2027, 2, 28))  # (other demo opt-outs fall due before)
    assert participant.state == ParticipantState.OPT_OUT_REQUESTED
    services.execute_opt_outs(dt.date(2027, 3, 1))
    assert participant.state == ParticipantState.WITHDRAWN and participant.withdrawn_on == dt.date(2027, 3, 1)
    assert services.execute_opt_outs(dt.date(2027, 3, 2)) == 0  # idempotent
    assert participant.withdrawn_on == dt.date(2027, 3, 1)
    # the three current demo opt-outs were carried out late (on 2027-02-28, after their dates), this one on
    # time, and the historical framework's four on time (srpp/demo/history.py): 5 of 8
    history = [p for p in _fa(ctx, "FA-MOB-DRT-2024").participants if p.state == ParticipantState.WITHDRAWN]
    on_time = 1 + len(history)
    assert services.opt_outs_on_time_share() == (Decimal(on_time) / Decimal(4 + len(history))).quantize(
        Decimal("0.0001"))


def test_coordinator_assignment_history(ctx):
    from srpp.orgs.models import ServiceCategory

    drt = ctx.scalar(select(ServiceCategory).where(ServiceCategory.key == "DRT"))
    council = _user(ctx, "council@demo.srpp.lt")
    services.assign_coordinator(council, drt, municipality_by_code("ROK"), dt.date(2027, 1, 1), "PRPT Nr. 9")
    history = services.assignment_history(drt)
    assert [a.municipality.code for a in history] == ["ROK", "KUP"]
    assert history[1].valid_to == dt.date(2026, 12, 31)
    with pytest.raises(DomainError):
        services.assign_coordinator(council, drt, municipality_by_code("PAS"), dt.date(2026, 6, 1), "PRPT Nr. 10")


def test_the_regional_target_counts_frameworks_per_area(ctx):
    # signed frameworks, running or expired: the demo's three and the expired historical mobility one
    assert services.frameworks_by_area() == {"LTC": 1, "MOBILITY": 2, "HOUSING": 1}
    _fa(ctx).state = FrameworkState.TERMINATED
    ctx.flush()
    assert services.frameworks_by_area()["MOBILITY"] == 1


@pytest.mark.postgres
def test_concurrent_call_offs_never_exceed_the_cap(live_database_url):
    """Two participants' officers place call-offs at the same moment on PostgreSQL: the row lock
    makes the second see the first, so together they stay within the cap."""
    if not live_database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL")
    from srpp import create_app
    from srpp.extensions import db
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "DATABASE_URL": live_database_url})
    with app.app_context():
        fa = db.session.scalar(select(FrameworkAgreement).where(FrameworkAgreement.code == "FA-MOB-DRT-2026"))
        rok = municipality_by_code("ROK")
        participant = next(p for p in fa.participants if p.municipality_id == rok.id)
        year = 2027
        cap = participant.cap_for(year)
        used = services.committed_by(fa, rok.id, year)
        fa_id, supplier_id = fa.id, fa.parties[0].supplier_id
        unit_price = next(p.unit_price for p in fa.prices if p.supplier_id == supplier_id)
    # each call-off takes 60 % of what is left: one fits, two together do not
    quantity = ((cap - used) * Decimal("0.6") / unit_price).quantize(Decimal("1"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def place() -> None:
        with app.app_context():
            officer = db.session.scalar(select(User).where(User.email == "officer.rok@demo.srpp.lt"))
            barrier.wait()
            try:
                services.place_call_off(officer, fa_id, municipality_by_code("ROK"), services.CallOffInput(
                    supplier_id=supplier_id, awarded_on=dt.date(2027, 1, 5), start_date=dt.date(2027, 1, 5),
                    end_date=dt.date(2027, 6, 30), quantity=quantity, unit="trip", unit_price=unit_price,
                    budget_line="08.01.01"))
                db.session.commit()
                outcomes.append("placed")
            except services.Refused as err:
                db.session.rollback()
                outcomes.append("refused: " + err.message)

    threads = [threading.Thread(target=place) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes) == ["placed", "refused"], outcomes
    with app.app_context():
        fa = db.session.get(FrameworkAgreement, fa_id)
        assert services.committed_by(fa, municipality_by_code("ROK").id, 2027) <= cap
