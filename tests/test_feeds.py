"""The Atom and iCalendar feeds of /opportunities, parsed back with feedparser and icalendar."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from icalendar import Calendar

from tests.test_public import (
    SCRIPT,
    _add_item,
    _filtered,
    _no_framework_opportunities,  # noqa: F401 (autouse: plan items and lots only)
)


def _atom(client, query=""):
    resp = client.get(f"/opportunities.atom{query}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    return resp.data, feedparser.parse(resp.data)


def _ics(client, query=""):
    resp = client.get(f"/opportunities.ics{query}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(resp.data)
    return resp.data, [c for c in cal.walk("VEVENT")]


def test_atom_feed_one_entry_per_item(client, ctx):
    _, items = _filtered({"municipality": "ROK", "reserved": "1"})
    raw, feed = _atom(client, "?municipality=ROK&reserved=1")
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title.startswith("Procurement opportunities")
    assert {e.id for e in feed.entries} == {f"urn:srpp:plan-item:{o.key}" for o in items}
    assert len(feed.entries) == len(items) >= 4
    by_id = {e.id: e for e in feed.entries}
    for o in items:
        e = by_id[f"urn:srpp:plan-item:{o.key}"]
        assert e.title == o.title
        assert e.link == f"http://localhost/opportunities/{o.key}"
        assert dt.datetime(*e.updated_parsed[:6], tzinfo=dt.UTC) == o.updated.replace(microsecond=0)
        assert "Rokiškis District Municipality" in e.summary
        assert o.reservation.plain_words in e.summary
        assert o.month.strftime("%B %Y") in e.summary


def test_atom_ids_are_stable_and_follow_the_item_across_requests(client):
    _, first = _atom(client)
    _, second = _atom(client)
    assert [e.id for e in first.entries] == [e.id for e in second.entries]
    assert [e.updated for e in first.entries] == [e.updated for e in second.entries]
    assert all(e.id.startswith(("urn:srpp:plan-item:", "urn:srpp:lot:")) for e in first.entries)


def test_atom_newest_first_and_changes_update_the_entry(client, ctx):
    item = _add_item(ctx, "KUP", "Ką tik paskelbta paslauga")
    _, feed = _atom(client)
    assert feed.entries[0].id == f"urn:srpp:plan-item:{item.uid}"
    item.content_changed_at = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    ctx.flush()
    _, feed = _atom(client)
    assert feed.entries[0].id == f"urn:srpp:plan-item:{item.uid}"
    assert feed.entries[0].updated.startswith("2030-01-02T03:04:05")


def test_script_title_comes_back_as_text(client, ctx):
    item = _add_item(ctx, "ROK", SCRIPT)
    raw, feed = _atom(client, "?municipality=ROK")
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw
    entry = next(e for e in feed.entries if e.id.endswith(item.uid))
    assert entry.title == SCRIPT
    assert entry.title_detail.type == "text/plain"

    raw, events = _ics(client, "?municipality=ROK")
    event = next(e for e in events if str(e["UID"]) == f"{item.uid}@srpp")
    assert str(event["SUMMARY"]) == SCRIPT


def test_icalendar_one_all_day_event_per_item(client, ctx):
    _, items = _filtered({"municipality": "ROK", "reserved": "1", "quarter": "2027-Q1"})
    _, events = _ics(client, "?municipality=ROK&reserved=1&quarter=2027-Q1")
    assert len(events) == len(items) == 4
    by_uid = {str(e["UID"]): e for e in events}
    assert set(by_uid) == {f"{o.key}@srpp" for o in items}
    for o in items:
        ev = by_uid[f"{o.key}@srpp"]
        start = ev.decoded("DTSTART")
        assert start == o.month and start.day == 1 and not isinstance(start, dt.datetime)
        assert ev.decoded("DTEND") == o.month + dt.timedelta(days=1)
        assert str(ev["SUMMARY"]) == o.title
        description = str(ev["DESCRIPTION"])
        assert "Rokiškis District Municipality" in description
        assert o.reservation.plain_words in description
        assert f"http://localhost/opportunities/{o.key}" in description
        assert str(ev["URL"]) == f"http://localhost/opportunities/{o.key}"


def test_icalendar_uids_are_stable(client):
    first, a = _ics(client)
    second, b = _ics(client)
    assert [str(e["UID"]) for e in a] == [str(e["UID"]) for e in b]
    assert first == second  # DTSTAMP follows the item, so the whole calendar is stable


@pytest.mark.parametrize("ext", ["atom", "ics"])
def test_feeds_accept_the_page_filters(client, ext):
    resp = client.get(f"/opportunities.{ext}?municipality=PAN-D&min_value=60%20000,00&sort=value_desc")
    assert resp.status_code == 200
    if ext == "atom":
        titles = [e.title for e in feedparser.parse(resp.data).entries]
    else:
        titles = [str(e["SUMMARY"]) for e in Calendar.from_ical(resp.data).walk("VEVENT")]
    assert titles and titles[0] == "Grupinio gyvenimo namų paslaugos"  # PAN-D's largest item
    assert "Jaunimo užimtumo ir NEET aktyvinimo programa" not in titles  # 36 000 €


@pytest.mark.parametrize("ext", ["atom", "ics"])
def test_feeds_refuse_bad_filters_clearly(client, ext):
    resp = client.get(f"/opportunities.{ext}?quarter=next")
    assert resp.status_code == 400
    assert resp.content_type.startswith("text/plain")
    assert "2027-Q1" in resp.get_data(as_text=True)
