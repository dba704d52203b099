"""Server-side SVG charts: scales, geometry and the accessible markup of the macros."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from srpp.core import charts


def render(c: charts.Chart, **kwargs) -> str:
    from flask import render_template_string

    return render_template_string('{% from "macros/charts.html" import chart %}{{ chart(c, **kw) }}', c=c, kw=kwargs)


# --- scales ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "step"), [
    (D("24.6"), D(25)), (D("0.3"), D("0.5")), (D(7), D(10)), (D(1), D(1)), (D("1200"), D("2000")),
    (D("0.024"), D("0.025")), (D(0), D(1)),
])
def test_nice_step(raw, step):
    assert charts.nice_step(raw) == step


def test_nice_scale_rounds_up_and_handles_zero():
    s = charts.Scale.nice([D(123), D(40)], 100)
    assert (s.lo, s.hi, s.step) == (0, 125, 25)
    assert s.ticks() == [0, 25, 50, 75, 100, 125]
    assert s(D(125)) == 100 and s(D("62.5")) == 50
    zero = charts.Scale.nice([D(0), D(0)], 100)  # all zero: no division by zero
    assert zero.hi == 1 and zero(D(0)) == 0
    empty = charts.Scale.nice([], 100)
    assert empty.ticks() == [0, 1]
    negative = charts.Scale.nice([D(-30), D(70)], 100)
    assert negative.lo < 0 < negative.hi and negative(D(0)) > 0


def test_to_decimal_is_exact():
    assert charts.to_decimal(0.1) == D("0.1")
    assert charts.to_decimal("12.50") == D("12.50")
    assert charts.to_decimal(None) is None
    assert charts.to_decimal("not a number") is None
    assert charts.to_decimal(float("nan")) is None


# --- horizontal bars -------------------------------------------------------------------------

def test_bar_chart_geometry():
    c = charts.bar_chart({"A": D("100.00"), "B": D("50.00"), "C": D(0)}, title="T", fmt=lambda v: f"{v} EUR")
    assert c.kind == "bar" and not c.empty
    assert [b.label for b in c.bars] == ["A", "B", "C"]
    full = c.plot_right - c.plot_left
    assert c.bars[0].width == charts.coord(full)
    assert c.bars[1].width == charts.coord(full / 2)
    assert c.bars[2].width == 0
    assert c.bars[0].text == "100.00 EUR"
    assert c.table.rows == [["A", "100.00 EUR"], ["B", "50.00 EUR"], ["C", "0 EUR"]]
    ys = [b.y for b in c.bars]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_bar_chart_zero_maximum_and_missing_values():
    c = charts.bar_chart([("A", 0), ("B", None, "nothing planned")], title="Zero")
    assert [b.width for b in c.bars] == [0, 0]
    assert c.bars[1].text == "nothing planned"
    assert c.bars[0].text == "0"


def test_bar_chart_marker_is_inside_the_scale():
    c = charts.bar_chart([charts.Datum("low", D("0.01"), warn=True), charts.Datum("high", D("0.04"))], title="Share",
                         markers=[charts.Marker(D("0.05"), "Minimum 5%")])
    (m,) = c.markers
    assert m.x1 == c.plot_right  # the marker is the largest value here
    assert c.bars[0].colour == charts.HIGHLIGHT and "chart-warn" in c.bars[0].css
    assert c.bars[1].width < c.plot_right - c.plot_left


def test_bar_chart_renders_one_bar_per_datum(ctx):
    data = {f"Municipality {n}": D(n * 1000) for n in range(1, 7)}
    html = render(charts.bar_chart(data, title="Per municipality", desc="Values", key="m"))
    assert html.count('class="chart-bar"') == 6
    assert 'role="img"' in html and 'aria-labelledby="m-title m-desc"' in html
    assert '<title id="m-title">Per municipality</title>' in html
    assert '<desc id="m-desc">Values</desc>' in html
    assert "<details" in html and html.count("<th scope=\"row\">") == 6
    assert "style=" not in html


def test_empty_chart_says_so(ctx):
    for c in (charts.bar_chart({}, title="Empty"), charts.column_chart([], title="Empty"),
              charts.stacked_column_chart([], [], title="Empty"), charts.line_chart([], [], title="Empty")):
        assert c.empty
        html = render(c)
        assert "No data to show." in html
        assert "<rect" not in html and "<polyline" not in html
        assert 'role="img"' in html and "style=" not in html


def test_text_is_escaped(ctx):
    evil = '<script>alert("x")</script> & "quotes"'
    cases = [
        charts.bar_chart({evil: 5}, title=evil, desc=evil, fmt=lambda v: evil),
        charts.column_chart({evil: 5}, title=evil, desc=evil),
        charts.stacked_column_chart([evil], [charts.Series(evil, [5])], title=evil),
        charts.line_chart([evil], [charts.Series(evil, [5])], title=evil, markers=[(3, evil)]),
    ]
    for c in cases:
        html = render(c)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert "style=" not in html


def test_long_labels_are_shortened_in_the_svg_but_whole_in_the_table():
    label = "A very long municipality name that would not fit next to the bars at all"
    c = charts.bar_chart({label: 1}, title="Long", max_label_chars=20)
    assert len(c.bars[0].short_label) == 20 and c.bars[0].short_label.endswith("…")
    assert c.table.rows[0][0] == label


# --- columns ---------------------------------------------------------------------------------

def test_column_chart_one_column_per_period_zero_included(ctx):
    c = charts.column_chart([("Jan\n2027", D(100)), ("Feb\n2027", D(0)), ("Mar\n2027", D(50))], title="Timeline")
    assert len(c.columns) == 3 and all(len(col.segments) == 1 for col in c.columns)
    a, zero, b = (col.segments[0] for col in c.columns)
    assert zero.height == 0
    assert a.height == charts.coord(2 * b.height) or abs(a.height - 2 * b.height) <= D("0.1")
    assert a.y + a.height == c.baseline
    assert c.x_labels[0].lines == ["Jan", "2027"]
    assert c.table.rows[0][0] == "Jan 2027"
    html = render(c)
    assert html.count('class="chart-segment') == 3
    assert "<tspan" in html and "style=" not in html


def test_stacked_columns_stack_per_series():
    periods = ["2027-01", "2027-02", "2027-03"]
    c = charts.stacked_column_chart(periods, [charts.Series("ROK", [D(10), D(0), None]),
                                              charts.Series("BIR", [D(30), D(20), D(0)])],
                                    title="Stacked", total_header="Total")
    first, second, third = c.columns
    assert [s.series for s in first.segments] == ["ROK", "BIR"]
    assert first.total == 40 and second.total == 20 and third.total == 0
    assert [s.series for s in second.segments] == ["BIR"]  # zero and missing values draw nothing
    assert third.segments == []
    rok, bir = first.segments
    assert bir.y + bir.height == rok.y  # BIR sits on top of ROK
    assert rok.y + rok.height == c.baseline
    assert c.table.headers == ["", "ROK", "BIR", "Total"]
    assert c.table.rows[0][1:] == ["10", "30", "40"]
    assert c.table.rows[2][1] == "—"
    assert [e.name for e in c.legend] == ["ROK", "BIR"]
    assert c.legend[0].colour != c.legend[1].colour
    assert c.segment_count == 3


def test_stacked_columns_refuse_mismatched_series():
    with pytest.raises(ValueError):
        charts.stacked_column_chart(["a", "b"], [charts.Series("x", [1])], title="Bad")


def test_stacked_all_zero_is_empty():
    c = charts.stacked_column_chart(["a", "b"], [charts.Series("x", [None, None])], title="Nothing")
    assert c.empty


def test_axis_ticks_use_the_axis_formatter():
    c = charts.column_chart({"a": D(120000)}, title="Money", fmt=lambda v: f"€{v:,.2f}",
                            axis_fmt=lambda v: f"€{v:,.0f}")
    assert [t.text for t in c.ticks] == ["€0", "€25,000", "€50,000", "€75,000", "€100,000", "€125,000"]
    assert c.columns[0].text == "€120,000.00"


# --- lines ------------------------------------------------------------------------------------

def test_line_chart_breaks_at_missing_values_and_supports_negatives(ctx):
    periods = ["H1 2026", "H2 2026", "H1 2027", "H2 2027"]
    c = charts.line_chart(periods, [charts.Series("Days to pay", [D(40), None, D(-5), D(20)]),
                                    charts.Series("Target", [D(30), D(30), D(30), D(30)])],
                          title="KPI", markers=[charts.Marker(D(30), "Target")])
    days, target = c.lines
    assert len(days.points) == 3 and len(days.paths) == 2
    assert len(target.paths) == 1 and len(target.paths[0].split()) == 4
    neg = days.points[1]
    assert neg.value == -5 and neg.y > c.baseline  # below the zero line
    assert c.table.rows[1] == ["H2 2026", "—", "30"]
    html = render(c)
    assert html.count("<polyline") == 3 and html.count("<circle") == 7
    assert "style=" not in html


def test_chart_ids_are_stable_and_safe():
    a = charts.bar_chart({"x": 1}, title="Same title")
    b = charts.bar_chart({"x": 2}, title="Same title")
    assert a.id == b.id and a.id.startswith("chart-")
    assert charts.bar_chart({}, title="t", key='bad key"<>').id == "bad-key---"


def test_series_colours_can_be_fixed():
    c = charts.stacked_column_chart(["a"], [charts.Series("BIR", [1], charts.palette_colour(2)),
                                            charts.Series("ROK", [2], "#123456")], title="Fixed")
    assert [s.colour for s in c.columns[0].segments] == [charts.PALETTE[2], "#123456"]
    assert [e.colour for e in c.legend] == [charts.PALETTE[2], "#123456"]
    line = charts.line_chart(["a"], [("x", [1], "#654321")], title="Line")
    assert line.lines[0].colour == "#654321"
