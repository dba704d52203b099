"""Markdown helpers shared by the benchmark modules."""

from __future__ import annotations

from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> list[str]:
    """A GitHub markdown table; the columns whose indexes are in ``right`` are right-aligned."""
    rule = ["---:" if i in right else "---" for i in range(len(header))]
    return [f"| {' | '.join(map(str, cells))} |" for cells in (header, rule, *rows)]
