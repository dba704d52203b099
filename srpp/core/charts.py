"""Server-side charts: pure-Python geometry for accessible inline SVG.

The builders below take labelled values (``Decimal``, ``int``, numeric strings; ``None`` for a
missing value), compute the scales with ``Decimal`` arithmetic and return plain dataclasses. The
macros in ``templates/macros/charts.html`` render them as ``<svg role="img">`` with a ``<title>``
and a ``<desc>``, followed by the same data as a table for screen-reader and keyboard users.

No JavaScript, no external library and no inline ``style=`` (the CSP forbids it): colours are SVG
presentation attributes (``fill``/``stroke``) and CSS classes (``static/css/app.css``, "charts").

Value texts are formatted by a callable you pass (``fmt``), e.g. ``srpp.core.i18n.money``, so
numbers follow the user's locale. Every text is escaped by Jinja when the macro renders it.

Builders:

- :func:`bar_chart` — horizontal bars, label → value, optional markers (e.g. a minimum share);
- :func:`column_chart` — vertical columns over periods (a timeline of months);
- :func:`stacked_column_chart` — columns over periods, stacked by series (e.g. per municipality);
- :func:`line_chart` — series over periods (KPI trends), with gaps for missing values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

Number = Decimal | int | float | str | None
Formatter = Callable[[Decimal], str]

#: series colours: each reaches 3:1 contrast against white (WCAG 1.4.11 for graphics)
PALETTE = ("#0b5c4a", "#1d4ed8", "#b45309", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#475569")
HIGHLIGHT = "#b42318"  # bars flagged with ``warn=True`` (always also said in words by the caller)

CHAR_WIDTH = Decimal("6.8")  # average width of a 12px character, for label room
LINE_HEIGHT = 13
EMPTY_HEIGHT = 48  # the "no data" message alone
ZERO = Decimal(0)
ONE = Decimal(1)
TENTH = Decimal("0.1")


# --- numbers ---------------------------------------------------------------------------------

def to_decimal(value: Number) -> Decimal | None:
    """Decimal from Decimal/int/float/str; ``None`` (and NaN, infinities, junk) stays missing."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        d = value
    else:
        try:
            d = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
    return d if d.is_finite() else None


def coord(value: Decimal | int) -> Decimal:
    """An SVG coordinate: one decimal place, never in exponent notation."""
    return Decimal(value).quantize(TENTH)


def nice_step(raw: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k that is ≥ ``raw`` (``raw`` > 0)."""
    if raw <= 0:
        return ONE
    base = Decimal(10) ** raw.adjusted()
    for m in (ONE, Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if raw <= m * base:
            return m * base
    return Decimal(10) * base  # pragma: no cover - unreachable


@dataclass(frozen=True)
class Scale:
    """A linear scale from [lo, hi] onto a pixel length, with rounded gridline ticks."""

    lo: Decimal
    hi: Decimal
    step: Decimal
    length: Decimal

    @classmethod
    def nice(cls, values: Iterable[Decimal], length: int | Decimal, ticks: int = 5) -> Scale:
        vals = [v for v in values if v is not None]
        lo = min([ZERO, *vals])
        hi = max([ZERO, *vals])
        if hi == lo:  # no data or all zero: a unit scale, so nothing divides by zero
            return cls(ZERO, ONE, ONE, Decimal(length))
        step = nice_step((hi - lo) / ticks)
        top = (hi / step).to_integral_value(rounding=ROUND_CEILING) * step
        bottom = (lo / step).to_integral_value(rounding=ROUND_FLOOR) * step
        return cls(bottom, top, step, Decimal(length))

    @classmethod
    def exact(cls, values: Iterable[Decimal], length: int | Decimal) -> Scale:
        """0 to the largest value, no rounding (horizontal bars end flush with the plot)."""
        hi = max([ZERO, *[v for v in values if v is not None]])
        return cls(ZERO, hi if hi > 0 else ONE, hi if hi > 0 else ONE, Decimal(length))

    def __call__(self, value: Decimal) -> Decimal:
        """Distance from the low end, in pixels, clamped to the scale."""
        value = min(max(value, self.lo), self.hi)
        return (value - self.lo) / (self.hi - self.lo) * self.length

    def ticks(self) -> list[Decimal]:
        out, v = [], self.lo
        while v <= self.hi:
            out.append(v)
            v += self.step
        return out


# --- input normalisation -----------------------------------------------------------------------

@dataclass(frozen=True)
class Datum:
    """One labelled value. ``text`` overrides the formatted value (e.g. "no simplified
    procurement planned"); ``warn`` draws the bar in the warning colour."""

    label: str
    value: Number
    text: str | None = None
    warn: bool = False


@dataclass(frozen=True)
class Series:
    """A named row of values, one per period (``None`` = missing). ``colour`` keeps a series'
    colour stable across filtered views (default: the palette, in series order)."""

    name: str
    values: Sequence[Number]
    colour: str | None = None

    def colour_at(self, n: int) -> str:
        return self.colour or PALETTE[n % len(PALETTE)]


def palette_colour(n: int) -> str:
    """The n-th palette colour (e.g. by a municipality's position in the region)."""
    return PALETTE[n % len(PALETTE)]


@dataclass(frozen=True)
class Marker:
    """A reference line at ``value`` (e.g. the minimum reserved share, a KPI target)."""

    value: Number
    label: str


def _data(data: Mapping[str, Number] | Iterable[Datum | tuple]) -> list[Datum]:
    if isinstance(data, Mapping):
        return [Datum(str(k), v) for k, v in data.items()]
    out = []
    for d in data:
        out.append(d if isinstance(d, Datum) else Datum(str(d[0]), *d[1:]))
    return out


def _series(series: Iterable[Series | tuple]) -> list[Series]:
    return [s if isinstance(s, Series) else Series(str(s[0]), list(s[1]), *s[2:]) for s in series]


def _markers(markers: Iterable[Marker | tuple] | None) -> list[Marker]:
    return [m if isinstance(m, Marker) else Marker(*m) for m in (markers or [])]


def _fmt(fmt: Formatter | None, value: Decimal | None, missing: str = "—") -> str:
    if value is None:
        return missing
    return fmt(value) if fmt else _plain(value)


def _remembering(fmt: Formatter | None) -> Formatter | None:
    """``fmt`` formatting each distinct value once (a chart repeats values: its table, its zeros)."""
    if fmt is None:
        return None
    seen: dict[tuple[Decimal, int | str], str] = {}

    def formatted(value: Decimal) -> str:
        key = (value, value.as_tuple().exponent)  # 1.0 and 1.00 are equal but may be written apart
        if key not in seen:
            seen[key] = fmt(value)
        return seen[key]

    return formatted


def _plain(value: Decimal) -> str:
    """Default text: the number in positional notation (``100``, ``0.25``)."""
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _chart_id(key: str | None, title: str) -> str:
    if key:
        return re.sub(r"[^A-Za-z0-9_-]", "-", key)
    return "chart-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]


def _truncate(text: str, chars: int) -> str:
    chars = max(chars, 2)
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _text_width(text: str) -> Decimal:
    return CHAR_WIDTH * len(text)


def _lines(label: str) -> list[str]:
    """Axis labels may hold a line break (``"Jan\\n2027"``); the table shows them on one line."""
    return str(label).split("\n")


# --- chart structures ------------------------------------------------------------------------

@dataclass
class TableData:
    """The chart's data as a table: the first column holds row headers."""

    headers: list[str]
    rows: list[list[str]]


@dataclass
class Tick:
    pos: Decimal  # y for value axes of columns/lines
    text: str


@dataclass
class AxisLabel:
    x: Decimal
    lines: list[str]


@dataclass
class LegendEntry:
    name: str
    colour: str
    css: str


@dataclass
class MarkerGeom:
    label: str
    text: str
    x1: Decimal
    y1: Decimal
    x2: Decimal
    y2: Decimal
    label_x: Decimal
    label_y: Decimal
    anchor: str = "start"


@dataclass
class Bar:
    label: str
    short_label: str
    value: Decimal | None
    text: str
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    label_x: Decimal
    text_x: Decimal
    text_y: Decimal
    colour: str
    css: str


@dataclass
class Segment:
    series: str
    value: Decimal | None
    text: str
    x: Decimal
    y: Decimal
    width: Decimal
    height: Decimal
    colour: str
    css: str


@dataclass
class Column:
    label: str
    total: Decimal | None
    text: str
    segments: list[Segment]


@dataclass
class Point:
    label: str
    value: Decimal
    text: str
    x: Decimal
    y: Decimal


@dataclass
class Line:
    name: str
    colour: str
    css: str
    points: list[Point]
    #: polyline "x,y x,y" strings; a missing value starts a new segment
    paths: list[str]


@dataclass
class Chart:
    kind: str  # bar | column | stacked | line
    id: str
    title: str
    desc: str
    width: int
    height: int
    empty: bool
    table: TableData
    table_caption: str
    plot_left: Decimal = ZERO
    plot_right: Decimal = ZERO
    plot_top: Decimal = ZERO
    plot_bottom: Decimal = ZERO
    baseline: Decimal = ZERO  # y (columns, lines) or x (bars) of the zero line
    bars: list[Bar] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[AxisLabel] = field(default_factory=list)
    markers: list[MarkerGeom] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def segment_count(self) -> int:
        return sum(len(c.segments) for c in self.columns)


# --- horizontal bars -----------------------------------------------------------------------

def bar_chart(
    data: Mapping[str, Number] | Iterable[Datum | tuple],
    *,
    title: str,
    desc: str = "",
    fmt: Formatter | None = None,
    markers: Iterable[Marker | tuple] | None = None,
    marker_fmt: Formatter | None = None,
    key: str | None = None,
    width: int = 640,
    bar_height: int = 22,
    gap: int = 8,
    max_label_chars: int = 32,
    label_header: str = "",
    value_header: str = "",
    caption: str | None = None,
) -> Chart:
    """Horizontal bars, one per datum, in the given order; value texts right of the bars.

    Negative values are drawn as zero-length bars (their text still shows the value)."""
    items = _data(data)
    marks = _markers(markers)
    values = [to_decimal(d.value) for d in items]
    mark_values = [to_decimal(m.value) for m in marks]
    texts = [d.text if d.text is not None else _fmt(fmt, v) for d, v in zip(items, values, strict=True)]

    longest_label = max((len(d.label) for d in items), default=0)
    label_chars = min(longest_label, max_label_chars)
    label_w = coord(_text_width("x" * label_chars) + 10) if items else ZERO
    value_w = coord(max((_text_width(t) for t in texts), default=ZERO) + 8)
    top = Decimal(18 if marks else 6)
    plot_left = label_w
    plot_right = coord(Decimal(width) - value_w - 4)
    if plot_right - plot_left < width // 4:  # very long value texts: give the bars a quarter anyway
        plot_right = plot_left + width // 4
    scale = Scale.exact([v for v in values + mark_values if v is not None], plot_right - plot_left)

    bars = []
    y = top
    for d, v, t in zip(items, values, texts, strict=True):
        w = coord(scale(max(v, ZERO))) if v is not None else ZERO
        colour = HIGHLIGHT if d.warn else PALETTE[0]
        bars.append(Bar(
            label=d.label, short_label=_truncate(d.label, label_chars), value=v, text=t,
            x=plot_left, y=coord(y), width=w, height=Decimal(bar_height),
            label_x=coord(plot_left - 6), text_x=coord(plot_left + w + 4), text_y=coord(y + Decimal(bar_height) / 2),
            colour=colour, css="chart-bar chart-warn" if d.warn else "chart-bar",
        ))
        y += bar_height + gap
    plot_bottom = coord(y - gap + 4) if items else top + bar_height
    height = int((plot_bottom + 6).to_integral_value(rounding=ROUND_CEILING)) if items else EMPTY_HEIGHT

    geoms = []
    for m, mv in zip(marks, mark_values, strict=True):
        if mv is None:
            continue
        x = coord(plot_left + scale(mv))
        geoms.append(MarkerGeom(label=m.label, text=_fmt(marker_fmt or fmt, mv), x1=x, y1=coord(top - 4), x2=x,
                                y2=plot_bottom, label_x=x, label_y=Decimal(11),
                                anchor="end" if x > (plot_left + plot_right) / 2 else "start"))

    table = TableData([label_header, value_header], [[d.label, t] for d, t in zip(items, texts, strict=True)])
    return Chart(kind="bar", id=_chart_id(key, title), title=title, desc=desc, width=width, height=height,
                 empty=not items, table=table, table_caption=caption or title, plot_left=plot_left,
                 plot_right=plot_right, plot_top=top, plot_bottom=plot_bottom, baseline=plot_left, bars=bars,
                 markers=geoms)


# --- columns over periods (plain and stacked) ----------------------------------------------

@dataclass
class _Frame:
    width: int
    height: int
    left: Decimal
    right: Decimal
    top: Decimal
    bottom: Decimal
    scale: Scale
    ticks: list[Tick]
    labels: list[AxisLabel]
    slot: Decimal

    def y(self, value: Decimal) -> Decimal:
        return coord(self.bottom - self.scale(value))

    def centre(self, i: int) -> Decimal:
        return coord(self.left + self.slot * i + self.slot / 2)


def _frame(periods: Sequence[str], values: Iterable[Decimal], fmt: Formatter | None, axis_fmt: Formatter | None,
           width: int, height: int) -> _Frame:
    axis = axis_fmt or fmt
    label_lines = max((len(_lines(p)) for p in periods), default=1)
    bottom_room = Decimal(LINE_HEIGHT * label_lines + 8)
    top = Decimal(12)
    plot_h = Decimal(height) - top - bottom_room
    scale = Scale.nice(list(values), plot_h)
    tick_texts = [(_fmt(axis, t), t) for t in scale.ticks()]
    left = coord(max((_text_width(t) for t, _ in tick_texts), default=ZERO) + 10)
    right = Decimal(width - 6)
    n = max(len(periods), 1)
    slot = (right - left) / n
    bottom = top + plot_h
    ticks = [Tick(pos=coord(bottom - scale(v)), text=text) for text, v in tick_texts]
    max_chars = max(int(slot / CHAR_WIDTH), 3)
    labels = [AxisLabel(x=coord(left + slot * i + slot / 2), lines=[_truncate(line, max_chars) for line in _lines(p)])
              for i, p in enumerate(periods)]
    return _Frame(width, height, left, right, top, coord(bottom), scale, ticks, labels, slot)


def column_chart(
    data: Mapping[str, Number] | Iterable[Datum | tuple],
    *,
    title: str,
    desc: str = "",
    fmt: Formatter | None = None,
    axis_fmt: Formatter | None = None,
    markers: Iterable[Marker | tuple] | None = None,
    key: str | None = None,
    width: int = 720,
    height: int = 260,
    label_header: str = "",
    value_header: str = "",
    caption: str | None = None,
) -> Chart:
    """Vertical columns over periods (in the given order; labels may contain ``\\n``)."""
    items = _data(data)
    return stacked_column_chart(
        [d.label for d in items], [Series(value_header, [d.value for d in items])],
        title=title, desc=desc, fmt=fmt, axis_fmt=axis_fmt, markers=markers, key=key, width=width, height=height,
        period_header=label_header, caption=caption, _kind="column",
        _texts=[d.text for d in items], _warn=[d.warn for d in items],
    )


def stacked_column_chart(
    periods: Sequence[str],
    series: Iterable[Series | tuple],
    *,
    title: str,
    desc: str = "",
    fmt: Formatter | None = None,
    axis_fmt: Formatter | None = None,
    markers: Iterable[Marker | tuple] | None = None,
    key: str | None = None,
    width: int = 720,
    height: int = 280,
    period_header: str = "",
    total_header: str | None = None,
    caption: str | None = None,
    _kind: str = "stacked",
    _texts: Sequence[str | None] | None = None,
    _warn: Sequence[bool] | None = None,
) -> Chart:
    """Columns over ``periods``, each stacked from the series' values for that period (series
    in the given order, bottom up). Missing and negative values add nothing to a stack."""
    rows = _series(series)
    for s in rows:
        if len(s.values) != len(periods):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(periods)} periods")
    marks = _markers(markers)
    grid = [[to_decimal(v) for v in s.values] for s in rows]
    fmt = _remembering(fmt)  # each value is written twice (its segment's title and the table)
    totals: list[Decimal | None] = []
    for i in range(len(periods)):
        present = [g[i] for g in grid if g[i] is not None]
        totals.append(sum((max(v, ZERO) for v in present), ZERO) if present else None)
    mark_values = [to_decimal(m.value) for m in marks]
    frame = _frame(periods, [t for t in totals if t is not None] + [m for m in mark_values if m is not None],
                   fmt, axis_fmt, width, height)

    col_w = coord(min(frame.slot * Decimal("0.64"), Decimal(64)))
    columns = []
    for i, period in enumerate(periods):
        x = coord(frame.left + frame.slot * i + (frame.slot - col_w) / 2)
        running = ZERO
        segments = []
        for n, (s, g) in enumerate(zip(rows, grid, strict=True)):
            v = g[i]
            if (v is None or v <= 0) and _kind != "column":
                continue
            text = _texts[i] if _texts and _texts[i] is not None else _fmt(fmt, v)
            v_draw = v if v is not None and v > 0 else ZERO  # a plain column chart keeps one (empty) column per datum
            y_top = frame.y(running + v_draw)
            y_bottom = frame.y(running)
            warn = bool(_warn and _warn[i])
            colour = HIGHLIGHT if warn else s.colour_at(n)
            segments.append(Segment(series=s.name, value=v, text=text, x=x, y=y_top, width=col_w,
                                    height=coord(y_bottom - y_top), colour=colour,
                                    css=f"chart-segment chart-s{n % len(PALETTE)}" + (" chart-warn" if warn else "")))
            running += v_draw
        total = totals[i]
        total_text = (_texts[i] if _texts and _texts[i] is not None else None) or _fmt(fmt, total)
        columns.append(Column(label=period.replace("\n", " "), total=total, text=total_text, segments=segments))

    geoms = []
    for m, mv in zip(marks, mark_values, strict=True):
        if mv is None:
            continue
        y = frame.y(mv)
        geoms.append(MarkerGeom(label=m.label, text=_fmt(fmt, mv), x1=frame.left, y1=y, x2=frame.right, y2=y,
                                label_x=frame.right, label_y=coord(y - 4), anchor="end"))

    if _kind == "column":
        table = TableData([period_header, rows[0].name if rows else ""],
                          [[c.label, c.text] for c in columns])
        legend: list[LegendEntry] = []
    else:
        show_total = total_header is not None
        headers = [period_header, *[s.name for s in rows]] + ([total_header] if show_total else [])
        table_rows = []
        for i, c in enumerate(columns):
            row = [c.label, *[_fmt(fmt, g[i]) for g in grid]]
            if show_total:
                row.append(c.text)
            table_rows.append(row)
        table = TableData(headers, table_rows)
        legend = [LegendEntry(s.name, s.colour_at(n), f"chart-s{n % len(PALETTE)}") for n, s in enumerate(rows)]

    empty = not periods or all(t is None for t in totals)
    return Chart(kind="column" if _kind == "column" else "stacked", id=_chart_id(key, title), title=title,
                 desc=desc, width=width, height=EMPTY_HEIGHT if empty else height, empty=empty, table=table, table_caption=caption or title,
                 plot_left=frame.left, plot_right=frame.right, plot_top=frame.top, plot_bottom=frame.bottom,
                 baseline=frame.y(ZERO), columns=columns, ticks=frame.ticks, x_labels=frame.labels, markers=geoms,
                 legend=legend)


# --- lines ------------------------------------------------------------------------------------

def line_chart(
    periods: Sequence[str],
    series: Iterable[Series | tuple],
    *,
    title: str,
    desc: str = "",
    fmt: Formatter | None = None,
    axis_fmt: Formatter | None = None,
    markers: Iterable[Marker | tuple] | None = None,
    key: str | None = None,
    width: int = 720,
    height: int = 260,
    period_header: str = "",
    caption: str | None = None,
) -> Chart:
    """One line per series over ``periods``; a missing value (``None``) breaks the line.
    Negative values are supported (the scale then extends below zero)."""
    rows = _series(series)
    for s in rows:
        if len(s.values) != len(periods):
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(periods)} periods")
    marks = _markers(markers)
    grid = [[to_decimal(v) for v in s.values] for s in rows]
    mark_values = [to_decimal(m.value) for m in marks]
    all_values = [v for g in grid for v in g if v is not None] + [m for m in mark_values if m is not None]
    frame = _frame(periods, all_values, fmt, axis_fmt, width, height)

    lines = []
    for n, (s, g) in enumerate(zip(rows, grid, strict=True)):
        points, paths, current = [], [], []
        for i, v in enumerate(g):
            if v is None:
                if current:
                    paths.append(" ".join(current))
                current = []
                continue
            p = Point(label=periods[i].replace("\n", " "), value=v, text=_fmt(fmt, v), x=frame.centre(i), y=frame.y(v))
            points.append(p)
            current.append(f"{p.x},{p.y}")
        if current:
            paths.append(" ".join(current))
        lines.append(Line(name=s.name, colour=s.colour_at(n), css=f"chart-line chart-s{n % len(PALETTE)}",
                          points=points, paths=paths))

    geoms = []
    for m, mv in zip(marks, mark_values, strict=True):
        if mv is None:
            continue
        y = frame.y(mv)
        geoms.append(MarkerGeom(label=m.label, text=_fmt(fmt, mv), x1=frame.left, y1=y, x2=frame.right, y2=y,
                                label_x=frame.right, label_y=coord(y - 4), anchor="end"))

    table = TableData([period_header, *[s.name for s in rows]],
                      [[p.replace("\n", " "), *[_fmt(fmt, g[i]) for g in grid]] for i, p in enumerate(periods)])
    legend = [LegendEntry(line.name, line.colour, f"chart-s{n % len(PALETTE)}") for n, line in enumerate(lines)]
    empty = not periods or not any(line.points for line in lines)
    return Chart(kind="line", id=_chart_id(key, title), title=title, desc=desc, width=width,
                 height=EMPTY_HEIGHT if empty else height,
                 empty=empty, table=table, table_caption=caption or title, plot_left=frame.left,
                 plot_right=frame.right, plot_top=frame.top, plot_bottom=frame.bottom, baseline=frame.y(ZERO),
                 lines=lines, ticks=frame.ticks, x_labels=frame.labels, markers=geoms, legend=legend)
