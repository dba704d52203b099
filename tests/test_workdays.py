"""Working days with the Lithuanian and Latvian public holidays (the ``holidays`` library), across
weekends, month and year ends; and due dates that land on a non-working day moving to the next
working day (LT Civil Code Art. 1.121(2)). Pure functions: no database."""

from __future__ import annotations

import datetime as dt

import pytest

from srpp.core.workdays import add_days, add_working_days, holiday_name, is_working_day, roll_forward
from srpp.payments import calc

D = dt.date

# (day, country, working?) — 2026 calendar: 16 Feb Mon, 11 Mar Wed, 6 Apr Mon (Easter Monday),
# 24 Jun Wed, 6 Jul Mon, 2 Nov Mon, 24-26 Dec Thu-Sat; LV: 3 Apr Good Friday, 4 May Mon, 18 Nov Wed.
WORKING = [
    (D(2026, 2, 16), "LT", False),  # Restoration of the State of Lithuania (Monday)
    (D(2026, 2, 16), "LV", True),
    (D(2026, 3, 11), "LT", False),  # Restoration of Independence (Wednesday)
    (D(2026, 3, 11), "LV", True),
    (D(2026, 4, 3), "LT", True),  # Good Friday is not a holiday in Lithuania …
    (D(2026, 4, 3), "LV", False),  # … but is in Latvia
    (D(2026, 4, 6), "LT", False),  # Easter Monday
    (D(2026, 4, 6), "LV", False),
    (D(2026, 5, 4), "LT", True),
    (D(2026, 5, 4), "LV", False),  # Restoration of Independence of Latvia (Monday)
    (D(2026, 6, 23), "LT", True),
    (D(2026, 6, 23), "LV", False),  # Midsummer Eve
    (D(2026, 6, 24), "LT", False),  # Joninės
    (D(2026, 7, 6), "LT", False),  # Statehood Day (Monday)
    (D(2026, 7, 6), "LV", True),
    (D(2026, 11, 2), "LT", False),  # All Souls' Day (Monday)
    (D(2026, 11, 2), "LV", True),
    (D(2026, 11, 18), "LT", True),
    (D(2026, 11, 18), "LV", False),  # Proclamation Day (Wednesday)
    (D(2026, 12, 24), "LT", False),
    (D(2026, 12, 25), "LT", False),
    (D(2026, 12, 31), "LT", True),
    (D(2026, 12, 31), "LV", False),  # New Year's Eve
    (D(2026, 11, 28), "LT", False),  # a Saturday
    (D(2026, 11, 29), "LT", False),  # a Sunday
    (D(2026, 11, 30), "LT", True),  # an ordinary Monday
    (D(2025, 5, 5), "LV", False),  # 4 May 2025 was a Sunday: the observed Monday is off in Latvia
    (D(2025, 5, 5), "LT", True),
]


@pytest.mark.parametrize(("day", "country", "working"), WORKING)
def test_is_working_day(day, country, working):
    assert is_working_day(day, country) is working


def test_holiday_names_come_from_the_library():
    assert holiday_name(D(2026, 4, 6), "LT") == "Easter Monday"
    assert holiday_name(D(2026, 11, 18), "LV") == "Republic of Latvia Proclamation Day"
    assert holiday_name(D(2026, 11, 30), "LT") is None


ROLL = [
    (D(2026, 11, 30), "LT", D(2026, 11, 30)),  # a working day stays
    (D(2026, 11, 28), "LT", D(2026, 11, 30)),  # Saturday → Monday
    (D(2026, 2, 14), "LT", D(2026, 2, 17)),  # Sat, Sun, Mon 16 Feb holiday → Tuesday
    (D(2026, 2, 14), "LV", D(2026, 2, 16)),
    (D(2026, 4, 4), "LT", D(2026, 4, 7)),  # Easter Saturday → over Easter Monday
    (D(2026, 5, 2), "LT", D(2026, 5, 4)),
    (D(2026, 5, 2), "LV", D(2026, 5, 5)),  # 4 May is off in Latvia
    (D(2026, 7, 4), "LT", D(2026, 7, 7)),  # over Statehood Day
    (D(2026, 10, 31), "LT", D(2026, 11, 3)),  # month end: Sat, Sun 1 Nov, Mon 2 Nov → Tuesday
    (D(2026, 10, 31), "LV", D(2026, 11, 2)),
    (D(2026, 12, 24), "LT", D(2026, 12, 28)),  # Christmas Eve … 27 Dec Sunday
    (D(2026, 12, 31), "LV", D(2027, 1, 4)),  # year end: 31 Dec and 1 Jan off, then the weekend
    (D(2027, 1, 1), "LT", D(2027, 1, 4)),
]


@pytest.mark.parametrize(("day", "country", "expected"), ROLL)
def test_roll_forward(day, country, expected):
    assert roll_forward(day, country) == expected


ADD_WORKING = [
    (D(2026, 2, 13), 1, "LT", D(2026, 2, 17)),  # Friday + 1: over the weekend and 16 Feb
    (D(2026, 2, 13), 1, "LV", D(2026, 2, 16)),
    (D(2026, 3, 10), 1, "LT", D(2026, 3, 12)),  # over 11 March
    (D(2026, 4, 2), 2, "LT", D(2026, 4, 7)),  # Fri 3 Apr counts in LT, Mon 6 Apr does not
    (D(2026, 4, 2), 2, "LV", D(2026, 4, 8)),  # neither counts in LV
    (D(2026, 6, 19), 1, "LT", D(2026, 6, 22)),
    (D(2026, 6, 19), 1, "LV", D(2026, 6, 25)),  # 22 (substituted day off), 23 and 24 June off in LV
    (D(2026, 6, 23), 1, "LT", D(2026, 6, 25)),  # over Joninės
    (D(2026, 7, 3), 1, "LT", D(2026, 7, 7)),
    (D(2026, 10, 30), 1, "LT", D(2026, 11, 3)),  # month end and All Souls' Day
    (D(2026, 11, 17), 1, "LT", D(2026, 11, 18)),
    (D(2026, 11, 17), 1, "LV", D(2026, 11, 19)),
    (D(2026, 12, 23), 1, "LT", D(2026, 12, 28)),  # 24, 25, 26 Dec and Sunday
    (D(2026, 12, 30), 2, "LT", D(2027, 1, 4)),  # 31 Dec counts, 1 Jan and the weekend do not
    (D(2026, 12, 30), 2, "LV", D(2027, 1, 5)),  # in LV 31 Dec does not count either
    (D(2026, 2, 13), 10, "LT", D(2026, 3, 2)),  # across 16 Feb and the end of February
    (D(2026, 11, 28), 0, "LT", D(2026, 11, 30)),  # n = 0: the day itself rolled forward
    (D(2026, 11, 27), 0, "LT", D(2026, 11, 27)),
    (D(2026, 11, 27), 5, "LT", D(2026, 12, 4)),  # a plain week
]


@pytest.mark.parametrize(("start", "n", "country", "expected"), ADD_WORKING)
def test_add_working_days(start, n, country, expected):
    assert add_working_days(start, n, country) == expected
    assert add_days(start, n, "working", country) == expected


ADD_CALENDAR = [
    (D(2026, 2, 13), 10, "LT", D(2026, 2, 23)),  # calendar: 23 Feb is a Monday, a working day
    (D(2026, 1, 31), 30, "LT", D(2026, 3, 2)),  # month ends: 31 Jan + 30 = 2 March (2026 is no leap year)
    (D(2026, 1, 29), 30, "LT", D(2026, 3, 2)),  # 28 Feb is a Saturday → Monday 2 March
    (D(2028, 1, 30), 30, "LT", D(2028, 2, 29)),  # leap day, a Tuesday
    (D(2026, 2, 4), 12, "LT", D(2026, 2, 17)),  # lands on 16 Feb (holiday) → 17 Feb
    (D(2026, 2, 4), 12, "LV", D(2026, 2, 16)),
    (D(2026, 11, 24), 30, "LT", D(2026, 12, 28)),  # lands on Christmas Eve → Monday 28 Dec
    (D(2026, 12, 1), 30, "LV", D(2027, 1, 4)),  # lands on 31 Dec (LV holiday) → over New Year
    (D(2026, 12, 1), 30, "LT", D(2026, 12, 31)),
    (D(2026, 11, 27), 0, "LT", D(2026, 11, 27)),
]


@pytest.mark.parametrize(("start", "n", "country", "expected"), ADD_CALENDAR)
def test_add_days_calendar(start, n, country, expected):
    assert add_days(start, n, "calendar", country) == expected


def test_calendar_and_working_days_differ():
    start = D(2026, 12, 18)  # a Friday before Christmas
    assert add_days(start, 5, "calendar") == D(2026, 12, 23)
    assert add_days(start, 5, "working") == D(2026, 12, 29)  # 21, 22, 23, 28, 29


# A due date (receipt + 30 calendar days) that is not a working day moves to the next one.
DUE = [
    (D(2026, 3, 2), "LT", D(2026, 4, 1)),  # an ordinary Wednesday
    (D(2026, 10, 2), "LT", D(2026, 11, 2) + dt.timedelta(days=1)),  # 1 Nov Sunday → 2 Nov holiday → 3 Nov
    (D(2026, 3, 5), "LT", D(2026, 4, 7)),  # 4 Apr Saturday → over Easter Monday
    (D(2026, 10, 29), "LT", D(2026, 11, 30)),  # 28 Nov Saturday → Monday
    (D(2026, 10, 19), "LV", D(2026, 11, 19)),  # 18 Nov (LV) → Thursday
    (D(2026, 10, 19), "LT", D(2026, 11, 18)),
    (D(2026, 5, 25), "LT", D(2026, 6, 25)),  # 24 June → 25 June
    (D(2026, 11, 24), "LT", D(2026, 12, 28)),  # 24 Dec → 28 Dec
    (D(2026, 12, 2), "LT", D(2027, 1, 4)),  # 1 Jan 2027 (Friday) → Monday 4 Jan
]


@pytest.mark.parametrize(("received", "country", "due"), DUE)
def test_due_date_moves_to_the_next_working_day(received, country, due):
    assert calc.due_date(received, 30, country=country) == due
