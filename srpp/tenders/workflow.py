"""The tender state machine, kept as data (and tested as a table)."""

from __future__ import annotations

from srpp.tenders.models import TenderState as S

#: (from, to) → the name of the guard the service runs before the move ("" = none)
TRANSITIONS: dict[tuple[S, S], str] = {
    (S.DRAFT, S.READY): "ready",
    (S.READY, S.DRAFT): "",
    (S.READY, S.PUBLISHED): "ready",
    (S.PUBLISHED, S.EVALUATION): "",
    (S.EVALUATION, S.AWARDED): "all_lots_decided",
    (S.DRAFT, S.CANCELLED): "reason",
    (S.READY, S.CANCELLED): "reason",
    (S.PUBLISHED, S.CANCELLED): "reason",
    (S.EVALUATION, S.CANCELLED): "reason",
}

#: states in which lots, criteria and the tender's own fields may still change
EDITABLE = {S.DRAFT, S.READY}


def allowed(current: S, target: S) -> bool:
    return (current, target) in TRANSITIONS


def next_states(current: S) -> list[S]:
    return [to for (frm, to) in TRANSITIONS if frm == current]
