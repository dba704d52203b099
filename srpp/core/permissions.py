"""Who may do what: one registry of named permissions, checked by services (and by views
for showing links). ``require`` raises ``PermissionDenied`` (HTTP 403)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user
from werkzeug.exceptions import Forbidden

from srpp.auth.models import Role, User

Rule = Callable[[User, Any], bool]
_RULES: dict[str, Rule] = {}


class PermissionDenied(Forbidden):
    def __init__(self, action: str) -> None:
        super().__init__(description=f"not allowed: {action}")
        self.action = action


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        if name in _RULES:
            raise ValueError(f"permission {name} registered twice")
        _RULES[name] = fn
        return fn

    return register


def registered() -> list[str]:
    return sorted(_RULES)


def can(user: User | None, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        check = _RULES[action]
    except KeyError:  # a typo must never grant access silently
        raise LookupError(f"unknown permission {action!r}") from None
    return bool(check(user, obj))


def require(user: User | None, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(action)


def permission_required(action: str) -> Callable:
    """View decorator for permissions that need no object (object checks go through services)."""

    def deco(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from flask_login import login_required

            if not current_user.is_authenticated:
                return login_required(view)(*args, **kwargs)
            require(current_user, action)
            return view(*args, **kwargs)

        return wrapped

    return deco


# --- helpers -------------------------------------------------------------------------------

def officer_of(user: User, municipality_id: int | None, *roles: Role) -> bool:
    roles = roles or (Role.PROCUREMENT_OFFICER,)
    return municipality_id is not None and municipality_id in user.municipality_ids(*roles)


def regional_reader(user: User) -> bool:
    return user.has_role(Role.ADMIN, Role.COUNCIL_VIEWER)


def municipal_staff(user: User) -> bool:
    return user.has_role(Role.PROCUREMENT_OFFICER, Role.FINANCE_OFFICER, Role.SERVICE_COORDINATOR)


# --- foundation rules -----------------------------------------------------------------------

@rule("admin.manage")
def _admin_manage(user: User, obj: Any) -> bool:
    return user.is_admin


@rule("audit.view")
def _audit_view(user: User, obj: Any) -> bool:
    return regional_reader(user)


@rule("municipality.edit")
def _municipality_edit(user: User, municipality: Any) -> bool:
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id)


@rule("supplier.edit")
def _supplier_edit(user: User, supplier: Any) -> bool:
    if user.is_admin:
        return True
    return supplier is not None and supplier.id in user.supplier_ids()


@rule("region.view")
def _region_view(user: User, obj: Any) -> bool:
    return regional_reader(user) or municipal_staff(user)


# --- plans -----------------------------------------------------------------------------------

@rule("plan.edit")
def _plan_edit(user: User, municipality: Any) -> bool:
    """Create plans, edit drafts, publish, import: the municipality's procurement officers."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id)


@rule("plan.view")
def _plan_view(user: User, municipality: Any) -> bool:
    """See drafts and version history: the municipality's staff and the regional readers."""
    if regional_reader(user):
        return True
    return municipality is not None and municipality.id in user.municipality_ids()


@rule("search.save")
def _search_save(user: User, obj: Any) -> bool:
    return bool(user.memberships)


# --- tenders and suppliers ---------------------------------------------------------------------

@rule("tender.edit")
def _tender_edit(user: User, municipality: Any) -> bool:
    """Create tenders from plan items, edit lots and criteria, move the workflow, record bids
    and awards: the (lead) municipality's procurement officers."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id)


@rule("tender.view_draft")
def _tender_view_draft(user: User, municipality: Any) -> bool:
    if regional_reader(user):
        return True
    return municipality is not None and municipality.id in user.municipality_ids()


@rule("status.declare")
def _status_declare(user: User, supplier: Any) -> bool:
    """Declare an eligibility status and upload its evidence: the organisation's members, admins."""
    if user.is_admin:
        return True
    return supplier is not None and supplier.id in user.supplier_ids()


@rule("status.decide")
def _status_decide(user: User, obj: Any) -> bool:
    """Verify or reject statuses: admins and council viewers (the regional contact point)."""
    return regional_reader(user)


@rule("evidence.view")
def _evidence_view(user: User, supplier: Any) -> bool:
    """Evidence files: the organisation itself, the region, and procurement officers (who check
    eligibility at award). Never the public or other organisations."""
    if regional_reader(user) or user.has_role(Role.PROCUREMENT_OFFICER):
        return True
    return supplier is not None and supplier.id in user.supplier_ids()


@rule("interest.register")
def _interest_register(user: User, supplier: Any) -> bool:
    return supplier is not None and supplier.id in user.supplier_ids()


# --- frameworks ---------------------------------------------------------------------------------

@rule("coordinator.assign")
def _coordinator_assign(user: User, obj: Any) -> bool:
    """Name the coordinator municipality of a specialised service area: the council and admins."""
    return regional_reader(user)


@rule("framework.manage")
def _framework_manage(user: User, municipality: Any) -> bool:
    """Maintain a framework (specification, participants, suppliers, prices, events): the
    service coordinators of the coordinator municipality, and admins."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id, Role.SERVICE_COORDINATOR)


@rule("framework.view")
def _framework_view(user: User, obj: Any) -> bool:
    return regional_reader(user) or municipal_staff(user)


@rule("calloff.place")
def _calloff_place(user: User, municipality: Any) -> bool:
    """Place call-offs and acknowledge specifications for a participating municipality: its
    procurement officers and service coordinators."""
    if user.is_admin:
        return True
    return municipality is not None and officer_of(user, municipality.id, Role.PROCUREMENT_OFFICER,
                                                   Role.SERVICE_COORDINATOR)
