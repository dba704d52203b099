"""Generate the synthetic region at the default scale into ``srpp_bench``; report the time per
step and the rows per table. The other benchmarks run against the database this leaves."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from bench import report, synth

SEED = 1


def server_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SHOW server_version")))
    finally:
        engine.dispose()


def run() -> list[str]:
    scale = synth.Scale()
    started = time.perf_counter()
    steps = synth.synthesise(synth.DEFAULT_URL, scale, SEED, on_step=synth.print_step)
    total = time.perf_counter() - started
    rows = synth.table_rows(synth.DEFAULT_URL)
    sizes = ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in vars(scale).items())
    return [
        "### Synthetic data (`bench/bench_synth.py`)",
        "",
        f"`python -m bench.synth` at the default scale ({sizes}; seed {SEED}) into `srpp_bench` "
        f"on PostgreSQL {server_version(synth.DEFAULT_URL)}: {total:.1f} s in all. A size whose table has "
        "no generator yet, or does not exist yet, produces nothing: the row counts are what is there.",
        "",
        *report.table(
            ["step", "seconds", "rows afterwards"],
            [(f"`{s.name}`", "skipped" if s.skipped else f"{s.seconds:.2f}",
              s.skipped or ", ".join(f"{t} {n:,}" for t, n in s.rows.items()) or "—") for s in steps],
            right=[1],
        ),
        "",
        *report.table(["table", "rows"], [(f"`{name}`", f"{n:,}") for name, n in rows.items()], right=[1]),
    ]
