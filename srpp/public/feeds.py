"""Atom and iCalendar renderings of the pipeline (subscriptions without an account).

Ids are stable: an Atom entry is ``urn:srpp:plan-item:<uid>`` and an iCalendar event
``<uid>@srpp`` for as long as the item lives, across plan versions; ``updated`` / ``LAST-MODIFIED``
follow the item's ``content_changed_at``. An open lot is ``urn:srpp:lot:<id>`` / ``lot-<id>@srpp``,
updated when its tender was published; its event is on the submission deadline (or on the
publication day when the tender has none). Text goes through the libraries' escaping, never markup."""

from __future__ import annotations

import datetime as dt

from feedgen.feed import FeedGenerator
from flask import request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from srpp.core.db import utcnow
from srpp.core.i18n import money
from srpp.public.services import Filters, Opportunity

ATOM_TYPE = "application/atom+xml; charset=utf-8"
ICS_TYPE = "text/calendar; charset=utf-8"


def summary(o: Opportunity) -> str:
    """One plain-text line: (the tender of a lot,) municipality, month or deadline, value,
    reservation in plain words."""
    parts = [_("open lot of the tender “%(title)s”", title=o.tender_title)] if o.is_lot else []
    return " · ".join([
        *parts,
        o.municipality.name,
        o.when_label,
        _("estimated value %(value)s", value=money(o.value)),
        o.reservation.plain_words,
    ])


def _feed_title(filters: Filters) -> str:
    base = _("Procurement opportunities in the Panevėžys region")
    if filters.municipality:
        base += f" · {filters.municipality}"
    return base


def atom(opportunities: list[Opportunity], filters: Filters) -> bytes:
    fg = FeedGenerator()
    query = filters.query_string()
    fg.id("urn:srpp:opportunities" + (f"?{query}" if query else ""))
    fg.title(_feed_title(filters))
    fg.subtitle(_("Planned procurement of social services, published by the municipalities."))
    fg.author({"name": _("Municipalities of the Panevėžys region")})
    fg.link(href=request.url, rel="self", type="application/atom+xml")
    fg.link(href=url_for("public.opportunities", _external=True, **filters.query()), rel="alternate",
            type="text/html")
    fg.language(str(get_locale() or "lt"))
    fg.updated(max((o.updated for o in opportunities), default=None) or utcnow())
    # feedgen writes entries in reverse order of adding: add the last one first
    for o in reversed(opportunities):
        fe = fg.add_entry()
        fe.id(o.feed_id)
        fe.title(o.title)
        fe.updated(o.updated)
        fe.link(href=o.external_url(), rel="alternate", type="text/html")
        fe.author({"name": o.municipality.name})
        fe.summary(summary(o))
        if o.category is not None:
            fe.category(term=o.category.key, label=o.category.name)
    return fg.atom_str(pretty=True)


def icalendar(opportunities: list[Opportunity], filters: Filters) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//SRPP manager//Procurement opportunities//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _feed_title(filters))
    for o in opportunities:
        url = o.external_url()
        day = o.day if (o.is_lot or o.is_framework) else o.month
        ev = Event()
        ev.add("uid", o.ical_uid)
        ev.add("dtstamp", o.updated)
        ev.add("last-modified", o.updated)
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
        ev.add("summary", o.title)
        if o.is_framework:
            first = _("Last day new suppliers may join the framework agreement %(code)s.", code=o.source.code)
        elif not o.is_lot:
            first = _("Planned launch of a procurement (%(kind)s).", kind=o.kind_label)
        elif o.deadline is not None:
            first = _("Submission deadline of an open lot of the tender “%(title)s”.", title=o.tender_title)
        else:
            first = _("Open lot of the tender “%(title)s”, published on this day.", title=o.tender_title)
        ev.add("description", "\n".join([
            first,
            _("Municipality: %(name)s", name=o.municipality.name),
            _("Estimated value: %(value)s", value=money(o.value)),
            _("Reservation: %(words)s", words=o.reservation.plain_words),
            url,
        ]))
        ev.add("location", o.municipality.name)
        ev.add("url", url)
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()
