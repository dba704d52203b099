"""Calendar and working days with the public holidays of Lithuania and Latvia (the maintained
``holidays`` library), for payment terms and milestone offsets.

A term whose last day is not a working day ends on the next working day (LT Civil Code Art. 1.121(2);
the same rule in Latvia)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

COUNTRIES = ("LT", "LV")


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, years=year).keys())


def is_working_day(day: dt.date, country: str = "LT") -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def holiday_name(day: dt.date, country: str = "LT") -> str | None:
    return holidays.country_holidays(country, years=day.year).get(day)


def roll_forward(day: dt.date, country: str = "LT") -> dt.date:
    """The day itself when it is a working day, else the next working day."""
    while not is_working_day(day, country):
        day += dt.timedelta(days=1)
    return day


def add_working_days(start: dt.date, n: int, country: str = "LT") -> dt.date:
    """The n-th working day after ``start`` (n = 0: ``start`` rolled forward)."""
    if n <= 0:
        return roll_forward(start, country)
    day = start
    while n:
        day += dt.timedelta(days=1)
        if is_working_day(day, country):
            n -= 1
    return day


def add_days(start: dt.date, n: int, day_type: str, country: str = "LT") -> dt.date:
    """``start`` + n calendar days (the last day rolled to a working day) or + n working days."""
    if day_type == "working":
        return add_working_days(start, n, country)
    return roll_forward(start + dt.timedelta(days=n), country)
