"""Write operations of ``/api/v1`` (an API token with write access; see ``spec._authenticate``).

A token acts as its user: the services check the same named permissions as the web pages
(``plan.edit``, ``invoice.record``), so a token of ROK's officer cannot touch BIR's plan. Values go
through the parsers of the CSV imports and the rule checks of the services (``plans.services.check_item``
via ``add_item``/``update_item``, ``payments.imports.check_rows``), never a copy of them. Every write
is audited: ``spec.operation`` binds the token's user as the actor before the service runs.

Plan items are edited in the plan's draft version. When the plan has none, the first write starts one
from the published version (what the "Start a new version" button does), so an integration never has
to use the web page first. An item's ``version`` is a token of its content: send the one you read
with a change; when the item changed since, the change is refused with 409 ``conflict``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from srpp.api.endpoints_plans import PlanItemOut
from srpp.api.locking import item_version
from srpp.api.spec import MAX_ID, ApiError, ErrorDetail, not_found, operation
from srpp.api.views import bp
from srpp.auth.models import User
from srpp.core.db import is_postgres
from srpp.core.permissions import PermissionDenied, require
from srpp.extensions import db
from srpp.orgs.models import Municipality, PriorityArea
from srpp.orgs.services import municipality_by_code
from srpp.payments import imports as invoice_imports
from srpp.plans import imports as plan_imports
from srpp.plans import services as plans
from srpp.plans.models import PlanItem, PlanState, PlanVersion, ProcurementPlan
from srpp.rules.models import Procedure, ReservationBasis

TAG_PLANS = "plans"
TAG_PAYMENTS = "payments"


# --- plan items: the models -------------------------------------------------------------------------

class _ItemFields(BaseModel):
    """The item's fields, as in the web form and the CSV import (same parsers, same rule check)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=250, description="required; up to 250 characters")
    category: str | None = Field(None, max_length=200, description="required; the key of a service category, "
                                                                    "e.g. `DEM_DAY`")
    main_cpv: str | None = Field(None, max_length=40, description="required; one CPV code with its check digit, "
                                                                  "e.g. `85312100-0`")
    additional_cpv: list[str] | None = Field(None, max_length=50, description="further CPV codes")
    priority_area: PriorityArea | None = Field(None, description="the category's area when left out")
    target_groups: str | None = Field(None, max_length=300, description="the category's target group when left out")
    estimated_value: Decimal | None = Field(None, description="required; euro, options and extensions included, "
                                                              "at most two decimals (a number or a string)")
    quantity: Decimal | None = Field(None, description="greater than zero")
    unit: str | None = Field(None, max_length=80)
    launch_month: str | None = Field(None, max_length=20, description="required; `YYYY-MM`, inside the plan period")
    duration_months: int | None = Field(None, description="required; 1 to 120 (at most 36 for an Art. 77 "
                                                          "reservation)")
    procedure: Procedure | None = Field(None, description="required")
    reservation: ReservationBasis | None = Field(None, description="`none` when left out")
    intended_lots: int | None = Field(None, description="1 when left out")
    funding_measure: str | None = Field(None, max_length=250, description="the code of a funding source, e.g. "
                                                                          "`MUNICIPAL`")
    is_bundle: bool | None = Field(None, description="a bundle of services (e.g. care + mobility)")
    notes_for_seos: str | None = Field(None, max_length=4000,
                                       description="shown to social economy organisations on the public pipeline")
    framework_id: int | None = Field(None, ge=1, le=MAX_ID, description="for a call-off: the framework agreement "
                                                                         "the municipality takes part in")


class PlanItemCreate(_ItemFields):
    """Where the item goes (exactly one of ``municipality``, ``plan_id``, ``version_id``) and its fields."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "municipality": "ROK", "title": "Dienos centras asmenims su demencija", "category": "DEM_DAY",
        "main_cpv": "85312100-0", "estimated_value": "45000.00", "launch_month": "2027-03", "duration_months": 24,
        "procedure": "simplified", "reservation": "none", "intended_lots": 1, "funding_measure": "MUNICIPAL"}]})

    municipality: str | None = Field(None, max_length=20, description="a municipality code, e.g. `ROK`: the "
                                                                      "plan whose period covers `launch_month`")
    plan_id: int | None = Field(None, ge=1, le=MAX_ID, description="a plan: its draft version")
    version_id: int | None = Field(None, ge=1, le=MAX_ID, description="a draft plan version")

    @model_validator(mode="after")
    def _one_target(self) -> PlanItemCreate:
        given = [n for n in ("municipality", "plan_id", "version_id") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of municipality, plan_id, version_id")
        return self


class PlanItemPatch(_ItemFields):
    """The fields to change (the others keep their values) and the version they were read at."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "version": "3f0c9a1d2b7e4c5a6d8e", "estimated_value": "47000.00", "intended_lots": 2}]})

    version: str = Field(min_length=1, max_length=64, description="the item's `version` as last read; a stale "
                                                                  "one is refused with 409 `conflict`")


class DeleteQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str | None = Field(None, max_length=64, description="the item's `version` as last read: when given "
                                                                 "and stale, the deletion is refused (409)")


class DraftPlanItem(PlanItemOut):
    """A plan item as the read operations show it, with its ``version`` to send back with a change."""

    version: str = Field(description="a token of the item's content; send it back with a change (409 when "
                                     "the item changed since)")

    @classmethod
    def of(cls, item: PlanItem) -> DraftPlanItem:
        return cls(**PlanItemOut.of(item).model_dump(), version=item_version(item))


class DeletedPlanItem(BaseModel):
    uid: str
    deleted: bool = True
    version_id: int = Field(description="the draft version the item was removed from")


# --- plan items: helpers -----------------------------------------------------------------------------

def _cells(item: PlanItem) -> dict[str, Any]:
    """An item's values as import cells (what a PATCH leaves out keeps these)."""
    return {
        "title": item.title, "category": item.category.key, "main_cpv": item.main_cpv,
        "additional_cpv": ";".join(item.cpv_codes[1:]), "priority_area": item.priority_area.value,
        "target_groups": item.target_groups, "estimated_value": item.estimated_value, "quantity": item.quantity,
        "unit": item.unit, "launch_month": item.launch_month.strftime("%Y-%m"),
        "duration_months": item.duration_months, "procedure": item.procedure.value,
        "reservation": item.reservation.value, "intended_lots": item.intended_lots,
        "funding": item.funding_measure.code if item.funding_measure else None, "is_bundle": item.is_bundle,
        "notes_for_seos": item.notes_for_seos,
    }


#: body fields → the import's column keys (the others have the same name); and the rules' field names
#: (``check_item``'s, the import's) → body fields
_COLUMN_OF = {"funding_measure": "funding"}
_FIELD_OF = {"funding": "funding_measure", "category_id": "category", "funding_measure_id": "funding_measure"}


def _body_cells(body: _ItemFields) -> dict[str, Any]:
    """The fields sent, as import cells."""
    out: dict[str, Any] = {}
    for name in body.model_fields_set:
        column = _COLUMN_OF.get(name, name)
        if column not in plan_imports.COLUMN_BY_KEY:
            continue
        value = getattr(body, name)
        if name == "additional_cpv" and value is not None:
            value = ";".join(value)
        out[column] = getattr(value, "value", value)
    return out


def _refused(problems: list[tuple[str, str]], code: str = "rule_violation") -> ApiError:
    problems = [(_FIELD_OF.get(f, f), m) for f, m in problems]
    first_field, first_message = problems[0]
    return ApiError(422, code, first_message, parameter=first_field,
                    details=[ErrorDetail(parameter=f, message=m) for f, m in problems])


def _item_input(cells: dict[str, Any], framework_id: int | None,
                lookups: plans.Lookups) -> plans.ItemInput:
    """The import's parser over the cells; 422 naming every field it cannot read."""
    parser = plan_imports.RowParser(lookups)
    values, problems = parser.parse(cells)
    if problems:
        order = list(plan_imports.COLUMN_BY_KEY)
        raise _refused([(k, problems[k]) for k in sorted(problems, key=order.index)])
    inp = parser.item_input(values)
    inp.framework_id = framework_id
    return inp


def _item_refused(err: plans.ItemRefused) -> ApiError:
    return _refused([(p.field, p.message) for p in err.problems])


def _lock(plan: ProcurementPlan, item: PlanItem | None = None) -> None:
    """Serialise API writes to one plan (and the web's to the item), so two requests cannot both
    start a draft or both pass the version check."""
    if is_postgres():
        db.session.execute(select(ProcurementPlan.id).where(ProcurementPlan.id == plan.id).with_for_update())
        if item is not None:
            db.session.execute(select(PlanItem.id).where(PlanItem.id == item.id).with_for_update())
    db.session.expire_all()


def _draft(actor: User, plan: ProcurementPlan) -> PlanVersion:
    """The plan's draft version; started from the published one when there is none."""
    return plans.draft_of(plan) or plans.start_new_version(actor, plan)


def _target_version(actor: User, body: PlanItemCreate) -> PlanVersion:
    if body.version_id is not None:
        version = db.session.get(PlanVersion, body.version_id)
        if version is None:
            raise _refused([("version_id", _("There is no plan version %(id)s.", id=body.version_id))],
                           "unknown_reference")
        require(actor, "plan.edit", version.plan.municipality)
        _lock(version.plan)
        version = db.session.get(PlanVersion, body.version_id)
        if version.state != PlanState.DRAFT:
            raise _refused([("version_id", _("Published versions cannot be changed; start a new version to edit "
                                             "the plan."))])
        return version
    if body.plan_id is not None:
        plan = db.session.get(ProcurementPlan, body.plan_id)
        if plan is None:
            raise _refused([("plan_id", _("There is no plan %(id)s.", id=body.plan_id))], "unknown_reference")
        require(actor, "plan.edit", plan.municipality)
        _lock(plan)
        return _draft(actor, db.session.get(ProcurementPlan, body.plan_id))
    muni = municipality_by_code((body.municipality or "").strip().upper())
    if muni is None:
        raise _refused([("municipality", _("There is no municipality with the code %(code)s.",
                                           code=body.municipality))], "unknown_reference")
    require(actor, "plan.edit", muni)
    try:
        month = plan_imports.parse_month(body.launch_month)
    except plan_imports.CellError as err:
        raise _refused([("launch_month", str(err))]) from None
    if month is None:
        raise _refused([("launch_month", _("Give the launch month (YYYY-MM): it chooses the plan."))])
    plan = next((p for p in plans.plans_for(muni) if p.covers(month)), None)
    if plan is None:
        raise _refused([("launch_month", _("No plan of %(municipality)s covers %(month)s: create the plan first.",
                                           municipality=muni.name, month=month.strftime("%Y-%m")))])
    _lock(plan)
    return _draft(actor, db.session.get(ProcurementPlan, plan.id))


def _item_for_change(actor: User, uid: str, version: str | None) -> PlanItem:
    """The item ``uid`` in its plan's draft (the draft started when needed), locked and checked
    against the version the client read."""
    newest = db.session.scalar(select(PlanItem).join(PlanVersion, PlanItem.plan_version_id == PlanVersion.id)
                               .where(PlanItem.uid == uid).order_by(PlanVersion.number.desc()).limit(1))
    if newest is None:
        raise not_found(_("Plan item"))
    plan = newest.plan_version.plan
    require(actor, "plan.edit", plan.municipality)
    _lock(plan, newest)
    plan = db.session.get(ProcurementPlan, plan.id)
    draft = plans.draft_of(plan)
    source = next((i for i in (draft.items if draft else []) if i.uid == uid), None)
    if source is None:
        published = plans.published_of(plan)
        source = next((i for i in (published.items if published and draft is None else []) if i.uid == uid), None)
    if source is None:  # removed from the plan's draft or current version
        raise not_found(_("Plan item"))
    if version is not None and version != item_version(source):
        raise ApiError(409, "conflict", _("This record was changed by someone else while you were editing it. "
                                          "Your changes were not saved; review the current values and apply "
                                          "them again."), parameter="version")
    if source.plan_version.state == PlanState.DRAFT:
        return source
    draft = _draft(actor, plan)
    return next(i for i in draft.items if i.uid == uid)


# --- plan items: the operations --------------------------------------------------------------------------

@operation(bp, "/plan-items", method="POST", summary="Add an item to a draft plan version", tag=TAG_PLANS,
           body=PlanItemCreate, response=DraftPlanItem, status=201)
def plan_item_create(user, query, body: PlanItemCreate):
    """Adds the item to the draft version of the plan named by `municipality` (the plan covering
    `launch_month`), `plan_id` or `version_id`. Without a draft, one is started from the published
    version. The fields are read like the CSV import's cells and checked by the same rules as the
    web form; every problem is listed (422, `parameter` names the first field)."""
    version = _target_version(user, body)
    lookups = plans.Lookups.load()
    inp = _item_input(_body_cells(body), body.framework_id, lookups)
    try:
        item = plans.add_item(user, version, inp, lookups)
    except plans.ItemRefused as err:
        raise _item_refused(err) from None
    db.session.commit()
    return DraftPlanItem.of(item)


@operation(bp, "/plan-items/<uid>", method="PATCH", summary="Change an item of a draft plan version",
           tag=TAG_PLANS, body=PlanItemPatch, response=DraftPlanItem, errors=(409,))
def plan_item_update(user, query, body: PlanItemPatch, uid: str):
    """Changes the fields sent; the others keep their values. `version` must be the item's version
    as last read (409 `conflict` otherwise). An item of a published plan without a draft is changed
    in a new draft version started from it."""
    item = _item_for_change(user, uid, body.version)
    cells = {**_cells(item), **_body_cells(body)}
    framework_id = body.framework_id if "framework_id" in body.model_fields_set else item.framework_id
    inp = _item_input(cells, framework_id, plans.Lookups.load())
    try:
        item = plans.update_item(user, item, inp)
    except plans.ItemRefused as err:
        raise _item_refused(err) from None
    db.session.commit()
    return DraftPlanItem.of(item)


@operation(bp, "/plan-items/<uid>", method="DELETE", summary="Remove an item from a draft plan version",
           tag=TAG_PLANS, query=DeleteQuery, response=DeletedPlanItem, errors=(409,))
def plan_item_delete(user, query: DeleteQuery, body, uid: str):
    """Removes the item from the plan's draft version (started from the published one when there is
    none); an item already being tendered cannot be removed (422)."""
    item = _item_for_change(user, uid, query.version)
    version_id = item.plan_version_id
    plans.delete_item(user, item)
    db.session.commit()
    return DeletedPlanItem(uid=uid, version_id=version_id)


# --- invoices ------------------------------------------------------------------------------------------

class InvoiceRow(BaseModel):
    """One invoice and, optionally, one of its payments: the columns of the invoice import."""

    model_config = ConfigDict(extra="forbid")

    supplier_code: str = Field(max_length=40, description="the supplier's company code")
    invoice_number: str = Field(max_length=120, description="with the supplier code it identifies the invoice")
    contract_reference: str | None = Field(None, max_length=120, description="the contract's reference; or give "
                                                                             "`contract_id`")
    contract_id: int | None = Field(None, ge=1, le=MAX_ID, description="the contract's ID in this system")
    amount: Decimal = Field(description="the invoice total in euro, at most two decimals")
    received_on: dt.date
    e_invoice_ref: str | None = Field(None, max_length=240, description="required for new invoices under "
                                                                        "Lithuanian contracts")
    accepted_on: dt.date | None = None
    paid_on: dt.date | None = Field(None, description="with `paid_amount`")
    paid_amount: Decimal | None = Field(None, description="with `paid_on`; a partial payment is allowed")
    payment_reference: str | None = Field(None, max_length=240)
    milestone: int | None = Field(None, description="the sequence number of the contract's payment milestone")


class InvoiceImport(BaseModel):
    """Invoices of one municipality's contracts, with their acceptance and payments."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "municipality": "ROK", "invoices": [
            {"supplier_code": "990000003", "invoice_number": "SF-2026-0042", "amount": "2100.00",
             "received_on": "2026-03-31", "e_invoice_ref": "EINV-2026-000123", "paid_on": "2026-04-20",
             "paid_amount": "2100.00", "payment_reference": "MP-2026-0815"}]}]})

    municipality: str | None = Field(None, max_length=20, description="the municipality code; may be left out "
                                                                      "by a finance officer of one municipality")
    invoices: list[InvoiceRow] = Field(min_length=1, max_length=invoice_imports.MAX_ROWS)


class InvoiceImportResult(BaseModel):
    municipality: str
    rows: int
    invoices_added: int
    invoices_matched: int = Field(description="invoices already recorded (their amounts agree)")
    acceptances: int
    payments_added: int
    payments_existing: int = Field(description="payments already recorded: importing again changes nothing")


def _import_municipality(user: User, code: str | None) -> Municipality:
    allowed = invoice_imports.importable_municipalities(user)
    if code is None:
        if len(allowed) == 1:
            return allowed[0]
        if not allowed:
            raise PermissionDenied("invoice.record")
        raise _refused([("municipality", _("Give the municipality: you may import invoices of several."))])
    muni = municipality_by_code(code.strip().upper())
    if muni is None:
        raise _refused([("municipality", _("There is no municipality with the code %(code)s.", code=code))],
                       "unknown_reference")
    require(user, "invoice.record", muni)
    return muni


def _row_cells(row: InvoiceRow) -> dict[str, Any]:
    cells = row.model_dump()
    for key, value in cells.items():  # dates as text: the import's parser checks their range
        if isinstance(value, dt.date):
            cells[key] = value.isoformat()
    return cells


@operation(bp, "/invoices/import", method="POST", summary="Import invoices and payments", tag=TAG_PAYMENTS,
           body=InvoiceImport, response=InvoiceImportResult)
def invoices_import(user, query, body: InvoiceImport):
    """The invoice import of the web page, as JSON: each element is one row of the import template
    (same fields, same rules). All or nothing: when any row is wrong nothing is recorded and the
    answer (422 `import_refused`) lists every problem with its row (1 = the first element) and field.
    Importing the same list again changes nothing. Finance officers of the municipality only."""
    muni = _import_municipality(user, body.municipality)
    rows: list[invoice_imports.FileRow] = []
    for n, row in enumerate(body.invoices, start=1):
        values, problems = invoice_imports.parse_cells(_row_cells(row))
        rows.append(invoice_imports.FileRow(n, values, problems, []))
    labels = {c.key: c.key for c in invoice_imports.COLUMNS}
    try:
        summary = invoice_imports.import_rows(user, muni, rows, labels)
    except invoice_imports.ImportRefused as err:
        details = [ErrorDetail(row=e.row, parameter=(f"invoices.{e.row - 1}.{e.column}" if e.row and e.column
                                                     else None), message=e.message) for e in err.errors]
        raise ApiError(422, "import_refused", ngettext("Nothing was imported: %(num)d problem.",
                                                       "Nothing was imported: %(num)d problems.", len(details)),
                       parameter=details[0].parameter, details=details) from None
    db.session.commit()
    return InvoiceImportResult(municipality=muni.code, rows=summary.rows, invoices_added=summary.invoices_added,
                               invoices_matched=summary.invoices_matched, acceptances=summary.acceptances,
                               payments_added=summary.payments_added, payments_existing=summary.payments_existing)
