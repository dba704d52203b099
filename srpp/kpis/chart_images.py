"""Charts as PNG images for generated documents (the annual impact report): matplotlib with the Agg
backend, drawn on a ``Figure`` of its own (no pyplot state, safe in a worker with several threads).

The web pages draw their charts as accessible inline SVG (``srpp/core/charts.py``); a ``.docx`` needs
pictures, so the same data is drawn here. Each function returns PNG bytes; the caller puts the caption
and the text alternative next to it (``Block("image", image=..., caption=..., alt=...)``), and the
document says every value in words in a table as well."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from srpp.core.charts import HIGHLIGHT, PALETTE  # noqa: E402

Number = Decimal | int | float | None
Formatter = Callable[[Decimal], str]

#: traffic-light colours (each also said in words in the legend and in the tables)
STATUS_COLOURS = {"green": "#15803d", "amber": "#b45309", "red": "#b42318", "none": "#94a3b8"}
TEXT = "#1f2933"
GRID = "#d9dee5"
DPI = 150
WIDTH_IN = 6.4


def _float(value: Number) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#5a6472")
    ax.tick_params(colors=TEXT, labelsize=8)
    ax.set_axisbelow(True)


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight", facecolor="white",
                metadata={"Software": None})
    return out.getvalue()


def _text(fmt: Formatter | None, value: float) -> str:
    if fmt is None:
        return f"{value:g}"
    return fmt(Decimal(str(round(value, 4))))


def line_png(periods: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *, y_label: str = "",
             target: Number = None, target_label: str = "", fmt: Formatter | None = None,
             height_in: float = 2.6, integer: bool = False) -> bytes:
    """One line per (name, values) over ``periods``; a missing value (None) breaks the line; an
    optional dashed target line. The last value of each line is written next to its point."""
    fig = _figure(height_in)
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    xs = list(range(len(periods)))
    for n, (name, values) in enumerate(series):
        ys = [_float(v) for v in values]
        colour = PALETTE[n % len(PALETTE)]
        ax.plot(xs, [y if y is not None else float("nan") for y in ys], color=colour, linewidth=2,
                marker="o", markersize=4, label=name)
        last = next(((x, y) for x, y in zip(reversed(xs), reversed(ys), strict=True) if y is not None), None)
        if last is not None:
            ax.annotate(_text(fmt, last[1]), last, textcoords="offset points", xytext=(6, 0), va="center",
                        fontsize=8, color=colour)
    goal = _float(target)
    if goal is not None:
        ax.axhline(goal, color=HIGHLIGHT, linewidth=1.2, linestyle=(0, (4, 3)),
                   label=target_label or None)
    ax.set_xticks(xs, list(periods))
    ax.set_xlim(-0.3, max(len(periods) - 1, 0) + 0.6)
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    bottom, top = ax.get_ylim()
    if bottom > 0:
        ax.set_ylim(0, top)
    if integer:
        ax.yaxis.get_major_locator().set_params(integer=True)
    if fmt is not None:
        ax.yaxis.set_major_formatter(lambda v, _pos: _text(fmt, v))
    if y_label:
        ax.set_ylabel(y_label, fontsize=8, color=TEXT)
    if len(series) > 1 or goal is not None:
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _png(fig)


def bar_png(labels: Sequence[str], values: Sequence[Number], *, statuses: Sequence[str] | None = None,
            texts: Sequence[str] | None = None, target: Number = None, target_label: str = "",
            fmt: Formatter | None = None) -> bytes:
    """Horizontal bars, one per label (top to bottom in the given order), coloured by traffic light
    when ``statuses`` are given; each value written at the end of its bar (``texts`` override)."""
    fig = _figure(max(1.2, 0.32 * len(labels) + 0.6))
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    ys = list(range(len(labels)))[::-1]
    nums = [_float(v) for v in values]
    colours = [STATUS_COLOURS.get(s, PALETTE[0]) for s in statuses] if statuses else [PALETTE[0]] * len(labels)
    ax.barh(ys, [v if v is not None and v > 0 else 0 for v in nums], color=colours, height=0.62)
    top = max([v for v in nums if v is not None] + [_float(target) or 0, 0]) or 1
    goal = _float(target)
    if goal is not None:
        ax.axvline(goal, color=HIGHLIGHT, linewidth=1.2, linestyle=(0, (4, 3)), label=target_label or None,
                   zorder=1)
        if target_label:
            ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    for y, v, i in zip(ys, nums, range(len(labels)), strict=True):
        text = texts[i] if texts else ("—" if v is None else _text(fmt, v))
        ax.text(max(v or 0, 0) + top * 0.01, y, text, va="center", fontsize=8, color=TEXT, zorder=3,
                bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    ax.set_yticks(ys, list(labels))
    ax.set_xlim(0, top * 1.35)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    if fmt is not None:
        ax.xaxis.set_major_formatter(lambda v, _pos: _text(fmt, v))
    return _png(fig)


def status_png(rows: Sequence[tuple[str, dict[str, int]]], labels: dict[str, str]) -> bytes:
    """One stacked horizontal bar per row (an indicator group): how many indicators are green, amber,
    red or without a value. ``labels``: the words for each status (the legend)."""
    fig = _figure(max(1.4, 0.34 * len(rows) + 0.9))
    ax = fig.add_subplot(1, 1, 1)
    _style(ax)
    ys = list(range(len(rows)))[::-1]
    left = [0.0] * len(rows)
    for status in ("green", "amber", "red", "none"):
        widths = [float(counts.get(status, 0)) for _name, counts in rows]
        bars = ax.barh(ys, widths, left=left, color=STATUS_COLOURS[status], height=0.62,
                       label=labels.get(status, status), edgecolor="white", linewidth=0.8)
        for bar, w in zip(bars, widths, strict=True):
            if w:
                ax.text(bar.get_x() + w / 2, bar.get_y() + bar.get_height() / 2, f"{int(w)}", ha="center",
                        va="center", fontsize=7, color="white" if status != "none" else TEXT)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(ys, [name for name, _counts in rows])
    ax.set_xlim(0, max(left + [1]) * 1.05)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4)
    return _png(fig)
