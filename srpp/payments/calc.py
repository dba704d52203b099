"""Pure payment arithmetic: due dates, half-years, statutory interest and compensation.

No database and no Flask: the services feed these functions, and the tests check them against
worked examples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from srpp.core.workdays import roll_forward

CENT = Decimal("0.01")
DAYS_IN_YEAR = Decimal(365)


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up (the one rounding rule for money here)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# --- half-years ----------------------------------------------------------------------------------

def half_year(day: dt.date) -> tuple[dt.date, dt.date]:
    """The half-year holding ``day``: 1 January – 30 June or 1 July – 31 December."""
    if day.month <= 6:
        return dt.date(day.year, 1, 1), dt.date(day.year, 6, 30)
    return dt.date(day.year, 7, 1), dt.date(day.year, 12, 31)


def previous_half_years(day: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    """The n half-years ending with the one holding ``day``, oldest first."""
    out = [half_year(day)]
    while len(out) < n:
        start = out[0][0]
        out.insert(0, half_year(start - dt.timedelta(days=1)))
    return out


def half_year_label(start: dt.date) -> str:
    return f"{start.year} H{1 if start.month == 1 else 2}"


def parse_half_year(text: str | None) -> tuple[dt.date, dt.date] | None:
    """``2026H1`` / ``2026 H2`` → the period, or None."""
    import re

    m = re.fullmatch(r"\s*(\d{4})\s*-?\s*[Hh]([12])\s*", text or "")
    if not m:
        return None
    return half_year(dt.date(int(m.group(1)), 1 if m.group(2) == "1" else 7, 1))


# --- due dates -------------------------------------------------------------------------------------

def clock_start(received_on: dt.date, acceptance_days: int | None, accepted_on: dt.date | None) -> dt.date:
    """PAY-01: the payment period runs from receipt of the invoice or, when an acceptance procedure
    applies and ends later, from its end (the acceptance date, or the last day allowed for it; an
    acceptance that overran the days allowed (PAY-04) does not push the clock further)."""
    if acceptance_days is None:
        return received_on
    end = received_on + dt.timedelta(days=acceptance_days)
    if accepted_on is not None:
        end = min(accepted_on, end)
    return max(received_on, end)


def due_date(received_on: dt.date, term_days: int, *, acceptance_days: int | None = None,
             accepted_on: dt.date | None = None, paused_days: int = 0, country: str = "LT") -> dt.date:
    """The last day to pay: the clock start plus the term in calendar days plus the days the clock
    stood still (a dispute), moved to the next working day when it is not one."""
    start = clock_start(received_on, acceptance_days, accepted_on)
    return roll_forward(start + dt.timedelta(days=term_days + paused_days), country)


# --- interest ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rates:
    """The reference rate per half-year (valid_from → rate in %) and the margin in percentage points."""

    by_start: dict[dt.date, Decimal]
    margin: Decimal = Decimal(8)

    def reference(self, day: dt.date) -> Decimal:
        start = half_year(day)[0]
        if start in self.by_start:
            return self.by_start[start]
        earlier = [d for d in self.by_start if d <= start]
        if not earlier:
            raise LookupError(f"no reference rate for {day.isoformat()}")
        return self.by_start[max(earlier)]

    def statutory(self, day: dt.date) -> Decimal:
        return self.reference(day) + self.margin


def interest(amount: Decimal, due: dt.date, payments: Iterable[tuple[dt.date, Decimal]], as_of: dt.date,
             rates: Rates) -> Decimal:
    """Simple daily interest on the overdue amount from the day after ``due`` up to and including the
    day of each payment (or ``as_of`` while unpaid), at the statutory rate of each day's half-year
    (actual/365); rounded to cents once, at the end."""
    paid_by_day: dict[dt.date, Decimal] = {}
    for day, value in payments:
        paid_by_day[day] = paid_by_day.get(day, Decimal(0)) + Decimal(value)
    outstanding = Decimal(amount) - sum((v for d, v in paid_by_day.items() if d <= due), Decimal(0))
    total = Decimal(0)
    day = due + dt.timedelta(days=1)
    while day <= as_of and outstanding > 0:
        # the day of a payment still counts for the amount it pays (days late = payment day - due day)
        total += outstanding * rates.statutory(day) / Decimal(100) / DAYS_IN_YEAR
        outstanding -= paid_by_day.get(day, Decimal(0))
        day += dt.timedelta(days=1)
    return cents(total)


def days_late(due: dt.date | None, settled_on: dt.date | None, as_of: dt.date) -> int:
    if due is None:
        return 0
    return max(0, ((settled_on or as_of) - due).days)


# --- milestones --------------------------------------------------------------------------------------

def allocate(value: Decimal, shares: Sequence[Decimal | None], fixed: Sequence[Decimal | None]) -> list[Decimal]:
    """The euro amount of each milestone: a fixed amount as given (in cents); a share of the value
    rounded to cents, the last share-based milestone taking the remainder so that the shares add up
    to exactly the value left after the fixed amounts."""
    amounts: list[Decimal | None] = [cents(f) if f is not None else None for f in fixed]
    share_idx = [i for i, sh in enumerate(shares) if sh is not None]
    fixed_total = sum((a for a in amounts if a is not None), Decimal(0))
    running = Decimal(0)
    for n, i in enumerate(share_idx):
        if n == len(share_idx) - 1:  # a checked schedule: the shares cover what the fixed amounts leave
            amounts[i] = cents(value) - fixed_total - running
        else:
            amounts[i] = cents(Decimal(value) * Decimal(shares[i]) / Decimal(100))
        running += amounts[i]
    return [a if a is not None else Decimal("0.00") for a in amounts]
