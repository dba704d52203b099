"""``python -m bench.run`` (``make bench``): run every benchmark of ``BENCHMARKS`` in order and
rewrite the section between the markers of docs/PERFORMANCE.md with their results."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import time
from pathlib import Path
from typing import Protocol

from bench import bench_opportunities, bench_pages, bench_synth


class Benchmark(Protocol):
    """A module whose ``run()`` measures something and returns markdown lines."""

    __name__: str

    def run(self) -> list[str]: ...


#: in order: bench_synth (re)creates the database the later ones read
BENCHMARKS: list[Benchmark] = [bench_synth, bench_pages, bench_opportunities]

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SECTION = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (f"{len(os.sched_getaffinity(0))} CPUs (nproc) × {cpu_model()}, {memory / 2**30:.1f} GiB memory, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def write_section(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    if not SECTION.search(text):
        raise SystemExit(f"{path}: the markers {START} … {END} are missing")
    section = "\n".join([START, *lines, END])
    path.write_text(SECTION.sub(lambda _: section, text, count=1), encoding="utf-8")


def main() -> None:
    started = time.perf_counter()
    results: list[str] = []
    for benchmark in BENCHMARKS:
        print(f"== {benchmark.__name__}", flush=True)
        results += ["", *benchmark.run()]
    seconds = time.perf_counter() - started
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_section(DOC, [f"_Measured {when} on {machine()}; the run took {seconds:.0f} s._", *results, ""])
    print(f"== {DOC} updated ({seconds:.0f} s)")


if __name__ == "__main__":
    main()
